/** The analytics tables an outbox row can be shipped to. */
export type DwhTable = 'user_sessions' | 'token_balance_changes' | 'generation_launches'

/** A column as the BigQuery REST API describes it (tables.insert / tables.get). */
export type FieldSchema = {
  name: string
  type: 'TIMESTAMP' | 'STRING' | 'INT64' | 'FLOAT64' | 'JSON' | 'RECORD'
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED'
  description?: string
  fields?: FieldSchema[]
}

export type TableDefinition = {
  name: DwhTable
  description: string
  fields: FieldSchema[]
  /* Every table: one partition per day of `timestamp`, clustered by `userid`. */
  timePartitioning: { type: 'DAY'; field: 'timestamp' }
  clustering: { fields: string[] }
}

const timestamp: FieldSchema = {
  name: 'timestamp',
  type: 'TIMESTAMP',
  mode: 'REQUIRED',
  description: 'When it happened (UTC)',
}
const userid: FieldSchema = {
  name: 'userid',
  type: 'STRING',
  mode: 'REQUIRED',
  description: 'Public user id (UUIDv7)',
}
const email: FieldSchema = {
  name: 'email',
  type: 'STRING',
  mode: 'NULLABLE',
  description: 'User email at the time',
}

const common: Pick<TableDefinition, 'timePartitioning' | 'clustering'> = {
  timePartitioning: { type: 'DAY', field: 'timestamp' },
  clustering: { fields: ['userid'] },
}

/** The three tables of SPEC §5, column names exactly as in the brief. */
export const DWH_TABLES: TableDefinition[] = [
  {
    name: 'user_sessions',
    description: 'Logins and sign-ups',
    fields: [
      timestamp,
      { name: 'ip', type: 'STRING', mode: 'NULLABLE', description: 'Client IP' },
      {
        name: 'geo',
        type: 'RECORD',
        mode: 'NULLABLE',
        description: 'Location of the IP (CDN headers or offline GeoIP); empty when unknown',
        fields: [
          { name: 'country', type: 'STRING', mode: 'NULLABLE', description: 'ISO 3166-1 alpha-2' },
          { name: 'region', type: 'STRING', mode: 'NULLABLE' },
          { name: 'city', type: 'STRING', mode: 'NULLABLE' },
          { name: 'latitude', type: 'FLOAT64', mode: 'NULLABLE' },
          { name: 'longitude', type: 'FLOAT64', mode: 'NULLABLE' },
        ],
      },
      { name: 'useragent', type: 'STRING', mode: 'NULLABLE' },
      { name: 'action', type: 'STRING', mode: 'REQUIRED', description: 'login | signup' },
      userid,
      email,
    ],
    ...common,
  },
  {
    name: 'token_balance_changes',
    description: 'Every balance change and every refused attempt',
    fields: [
      timestamp,
      userid,
      email,
      {
        name: 'action',
        type: 'STRING',
        mode: 'REQUIRED',
        description: 'topup | used | manual | refund',
      },
      { name: 'diff', type: 'INT64', mode: 'REQUIRED', description: 'Signed token amount' },
      { name: 'old_balance', type: 'INT64', mode: 'REQUIRED' },
      { name: 'new_balance', type: 'INT64', mode: 'REQUIRED' },
      { name: 'status', type: 'STRING', mode: 'REQUIRED', description: 'applied | rejected' },
      {
        name: 'reference',
        type: 'STRING',
        mode: 'NULLABLE',
        description: 'Unique cause, e.g. topup:order:42, used:run:7',
      },
    ],
    ...common,
  },
  {
    name: 'generation_launches',
    description: 'Every run submitted to the generation provider (first runs and regenerations)',
    fields: [
      timestamp,
      userid,
      email,
      { name: 'taskid', type: 'STRING', mode: 'REQUIRED' },
      {
        name: 'task_properties',
        type: 'JSON',
        mode: 'NULLABLE',
        description: 'Run id, provider job id, model, cost, regeneration, inputs',
      },
    ],
    ...common,
  },
]

export function tableDefinition(name: string) {
  return DWH_TABLES.find((table) => table.name === name)
}

/**
 * Turns an outbox payload into the JSON insertAll expects: JSON columns
 * travel as a JSON-encoded string in the streaming API, and ids written as
 * numbers go to their STRING columns as text.
 */
export function toBigQueryRow(table: TableDefinition, payload: Record<string, unknown>) {
  const row: Record<string, unknown> = { ...payload }
  for (const field of table.fields) {
    const value = row[field.name]
    if (value === undefined || value === null) continue
    if (field.type === 'JSON' && typeof value !== 'string') {
      row[field.name] = JSON.stringify(value)
    } else if (field.type === 'STRING' && typeof value === 'number') {
      row[field.name] = String(value)
    }
  }
  return row
}
