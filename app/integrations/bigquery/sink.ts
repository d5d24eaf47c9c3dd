import { readFileSync } from 'node:fs'
import { BigQuery, type Table } from '@google-cloud/bigquery'
import { JWT, PassThroughClient } from 'google-auth-library'
import type { BigQueryConfig } from '#config/dwh'
import { DWH_TABLES, type FieldSchema, type TableDefinition } from '#integrations/bigquery/tables'

export type SinkRow = { insertId: string; json: Record<string, unknown> }

/** Per-row outcome of one insertAll: rows not listed in `failed` were accepted. */
export type InsertResult = {
  failed: Map<string, { reason: string; message: string }>
}

export type TableReport = {
  table: string
  status: 'created' | 'ok' | 'differs'
  differences: string[]
}

type InsertAllResponse = {
  insertErrors?: { index: number; errors?: { reason?: string; message?: string }[] }[]
}

export type SetupReport = {
  dataset: { id: string; status: 'created' | 'exists' }
  tables: TableReport[]
}

/* The REST API answers with legacy type names; compare on the standard ones. */
const TYPE_ALIASES: Record<string, string> = {
  INTEGER: 'INT64',
  FLOAT: 'FLOAT64',
  BOOLEAN: 'BOOL',
  STRUCT: 'RECORD',
}

function normalType(type: string | undefined) {
  const upper = (type ?? '').toUpperCase()
  return TYPE_ALIASES[upper] ?? upper
}

const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery'

/** A service-account key → a JWT client; anything else is refused with a clear message. */
function jwtFrom(text: string, source: string) {
  let key: Record<string, unknown>
  try {
    key = JSON.parse(text)
  } catch {
    throw new Error(`${source} is not valid JSON (use the whole service-account key file)`)
  }
  if (
    key?.type !== 'service_account' ||
    typeof key.client_email !== 'string' ||
    typeof key.private_key !== 'string'
  ) {
    throw new Error(
      `${source} is not a service-account key (type, client_email and private_key are required)`
    )
  }
  return new JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: typeof key.private_key_id === 'string' ? key.private_key_id : undefined,
    scopes: [BIGQUERY_SCOPE],
  })
}

function errorCode(error: unknown) {
  return (error as { code?: number })?.code
}

/** Differences between the schema we want and the one BigQuery has, in words. */
export function schemaDifferences(
  wanted: FieldSchema[],
  actual: FieldSchema[] | undefined,
  prefix = ''
): string[] {
  const differences: string[] = []
  const actualByName = new Map((actual ?? []).map((field) => [field.name, field]))
  for (const field of wanted) {
    const name = `${prefix}${field.name}`
    const found = actualByName.get(field.name)
    actualByName.delete(field.name)
    if (!found) {
      differences.push(`column ${name} is missing`)
      continue
    }
    if (normalType(found.type) !== normalType(field.type)) {
      differences.push(`column ${name} is ${normalType(found.type)}, expected ${field.type}`)
      continue
    }
    const wantedMode = field.mode ?? 'NULLABLE'
    const actualMode = found.mode ?? 'NULLABLE'
    if (wantedMode !== actualMode) {
      differences.push(`column ${name} is ${actualMode}, expected ${wantedMode}`)
    }
    if (field.fields) {
      differences.push(...schemaDifferences(field.fields, found.fields, `${name}.`))
    }
  }
  for (const extra of actualByName.keys()) {
    differences.push(`column ${prefix}${extra} is not in our definition`)
  }
  return differences
}

function tableDifferences(definition: TableDefinition, metadata: any): string[] {
  const differences = schemaDifferences(definition.fields, metadata?.schema?.fields)
  const partitioning = metadata?.timePartitioning
  if (
    partitioning?.type !== definition.timePartitioning.type ||
    partitioning?.field !== definition.timePartitioning.field
  ) {
    differences.push(
      `partitioning is ${partitioning ? `${partitioning.type} on ${partitioning.field ?? '_PARTITIONTIME'}` : 'none'}, expected DAY on timestamp`
    )
  }
  const clustering: string[] = metadata?.clustering?.fields ?? []
  if (clustering.join(',') !== definition.clustering.fields.join(',')) {
    differences.push(
      `clustering is ${clustering.length ? clustering.join(', ') : 'none'}, expected userid`
    )
  }
  return differences
}

/**
 * BigQuery through the official client: creates the dataset and tables and
 * streams rows with insertAll. Retries are the shipper's job (it keeps the
 * state in the outbox), so the client's own retries are off.
 */
export class BigQuerySink {
  readonly client: BigQuery
  /** The credentials in use (undefined = Application Default Credentials). */
  readonly auth: JWT | PassThroughClient | undefined

  constructor(private config: BigQueryConfig) {
    this.auth = BigQuerySink.credentials(config)
    this.client = new BigQuery({
      projectId: config.projectId,
      location: config.location,
      apiEndpoint: config.apiEndpoint,
      ...(this.auth ? { authClient: this.auth } : {}),
      retryOptions: { autoRetry: false },
      timeout: 30_000,
    } as unknown as ConstructorParameters<typeof BigQuery>[0])
  }

  /**
   * A service-account key (inline JSON or file), checked and turned into a
   * JWT client ourselves (Google asks callers to validate keys rather than
   * hand raw configurations to the library); with a custom endpoint such as
   * an emulator and no key, no credentials at all; otherwise Application
   * Default Credentials.
   */
  private static credentials(config: BigQueryConfig) {
    if (config.credentialsJson) return jwtFrom(config.credentialsJson, 'BIGQUERY_CREDENTIALS_JSON')
    if (config.keyFilename) {
      let text: string
      try {
        text = readFileSync(config.keyFilename, 'utf8')
      } catch (error) {
        throw new Error(
          `GOOGLE_APPLICATION_CREDENTIALS: cannot read ${config.keyFilename} (${(error as Error).message})`
        )
      }
      return jwtFrom(text, `GOOGLE_APPLICATION_CREDENTIALS (${config.keyFilename})`)
    }
    if (config.apiEndpoint) return new PassThroughClient()
    return undefined
  }

  get datasetId() {
    return this.config.dataset
  }

  private table(name: string): Table {
    return this.client.dataset(this.config.dataset).table(name)
  }

  /** Creates what is missing; reports (never alters) tables whose schema differs. */
  async setup(definitions: TableDefinition[] = DWH_TABLES): Promise<SetupReport> {
    const dataset = this.client.dataset(this.config.dataset, { location: this.config.location })
    let datasetStatus: 'created' | 'exists' = 'exists'
    const [datasetExists] = await dataset.exists()
    if (!datasetExists) {
      try {
        await dataset.create({ location: this.config.location })
        datasetStatus = 'created'
      } catch (error) {
        if (errorCode(error) !== 409) throw error
      }
    }

    const tables: TableReport[] = []
    for (const definition of definitions) {
      const table = dataset.table(definition.name)
      const [exists] = await table.exists()
      if (!exists) {
        try {
          await table.create({
            description: definition.description,
            schema: { fields: definition.fields },
            timePartitioning: definition.timePartitioning,
            clustering: definition.clustering,
          } as any)
          tables.push({ table: definition.name, status: 'created', differences: [] })
          continue
        } catch (error) {
          if (errorCode(error) !== 409) throw error
        }
      }
      const [metadata] = await table.getMetadata()
      const differences = tableDifferences(definition, metadata)
      tables.push({
        table: definition.name,
        status: differences.length ? 'differs' : 'ok',
        differences,
      })
    }
    return { dataset: { id: this.config.dataset, status: datasetStatus }, tables }
  }

  /**
   * One tabledata.insertAll. Throws when the whole request fails (network,
   * 5xx, auth, missing table); per-row errors come back in `failed`. Invalid
   * rows are skipped so they cannot hold back the valid ones of the batch.
   *
   * The body is serialized here and sent through the client's request path
   * (auth, endpoint, errors) rather than `Table.insert`, which deep-copies
   * every row and walks every value for a `{{projectId}}` placeholder: a
   * third of the shipping CPU, and it would rewrite such text inside a row.
   */
  async insert(tableName: string, rows: SinkRow[]): Promise<InsertResult> {
    const failed: InsertResult['failed'] = new Map()
    if (!rows.length) return { failed }
    const body = JSON.stringify({
      kind: 'bigquery#tableDataInsertAllRequest',
      skipInvalidRows: true,
      rows,
    })
    const [response] = await this.table(tableName).request({
      method: 'POST',
      uri: '/insertAll',
      body,
      headers: { 'Content-Type': 'application/json' },
    })
    for (const insertError of (response as InsertAllResponse)?.insertErrors ?? []) {
      const row = rows[insertError.index]
      if (!row) continue
      const first = insertError.errors?.[0] ?? {}
      failed.set(row.insertId, {
        reason: first.reason || 'unknown',
        message: first.message || 'row rejected',
      })
    }
    return { failed }
  }
}
