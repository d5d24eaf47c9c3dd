import type { IncomingMessage, ServerResponse } from 'node:http'
import { FakeHttpServer } from '#tests/fakes/fake_http_server'

/*
 * A fake BigQuery REST API over real HTTP, enough for what
 * @google-cloud/bigquery sends: datasets get/insert, tables get/insert and
 * tabledata.insertAll (with BigQuery's insertId de-duplication and per-row
 * errors). Switches make it fail whole requests (`down`), refuse
 * connections (`refuse`) or reject chosen rows.
 */

type Field = { name: string; type: string; mode?: string; fields?: Field[] }
type TableState = {
  metadata: Record<string, any>
  /* Stored rows, one per insertId (BigQuery drops a repeated insertId). */
  rows: Map<string, Record<string, unknown>>
}
type RowFailure = {
  match: (row: { insertId: string; json: Record<string, any> }) => boolean
  reason: string
  message: string
  remaining: number
}

export type InsertAllCall = {
  table: string
  rows: { insertId: string; json: Record<string, any> }[]
  skipInvalidRows: boolean
}

/* BigQuery answers with the legacy type names. */
const LEGACY: Record<string, string> = {
  INT64: 'INTEGER',
  FLOAT64: 'FLOAT',
  BOOL: 'BOOLEAN',
  STRUCT: 'RECORD',
}

function legacyFields(fields: Field[]): Field[] {
  return fields.map((field) => ({
    ...field,
    type: LEGACY[field.type.toUpperCase()] ?? field.type.toUpperCase(),
    mode: field.mode ?? 'NULLABLE',
    ...(field.fields ? { fields: legacyFields(field.fields) } : {}),
  }))
}

function apiError(code: number, status: string, reason: string, message: string) {
  return { error: { code, message, status, errors: [{ message, domain: 'global', reason }] } }
}

/** Row validation as BigQuery does it: unknown fields, missing required ones, wrong types. */
function validate(fields: Field[], value: Record<string, any>, prefix = ''): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `${prefix || 'row'} is not a record`
  }
  const known = new Set(fields.map((field) => field.name))
  for (const key of Object.keys(value)) {
    if (!known.has(key)) return `no such field: ${prefix}${key}.`
  }
  for (const field of fields) {
    const name = `${prefix}${field.name}`
    const fieldValue = value[field.name]
    if (fieldValue === undefined || fieldValue === null) {
      if ((field.mode ?? 'NULLABLE').toUpperCase() === 'REQUIRED') {
        return `Missing required field: ${name}.`
      }
      continue
    }
    const type = (LEGACY[field.type.toUpperCase()] ?? field.type).toUpperCase()
    const bad = `Cannot convert value to ${type.toLowerCase()}: ${name}`
    switch (type) {
      case 'STRING':
        if (typeof fieldValue !== 'string') return bad
        break
      case 'INTEGER':
        if (!(Number.isInteger(fieldValue) || /^-?\d+$/.test(String(fieldValue)))) return bad
        break
      case 'FLOAT':
        if (typeof fieldValue !== 'number' || !Number.isFinite(fieldValue)) return bad
        break
      case 'TIMESTAMP':
        if (typeof fieldValue !== 'string' || Number.isNaN(Date.parse(fieldValue))) return bad
        break
      case 'JSON':
        try {
          if (typeof fieldValue !== 'string') return `${name} must be a JSON-encoded string`
          JSON.parse(fieldValue)
        } catch {
          return bad
        }
        break
      case 'RECORD': {
        const nested = validate(field.fields ?? [], fieldValue, `${name}.`)
        if (nested) return nested
        break
      }
    }
  }
  return null
}

export class FakeBigQueryServer {
  private http = new FakeHttpServer((req, res) => void this.handle(req, res))
  port = 0

  /** up: normal; down: every call answers 503 (see also `refuseConnections`). */
  mode: 'up' | 'down' = 'up'
  /** The next N insertAll calls are processed, then the connection drops before the answer. */
  dropResponses = 0
  /** When set, calls must carry `Authorization: Bearer <token>` (see /token). */
  requiredToken: string | null = null

  datasets = new Map<string, Record<string, any>>()
  tables = new Map<string, TableState>()
  insertAllCalls: InsertAllCall[] = []
  requests: { method: string; path: string }[] = []
  tokenRequests: URLSearchParams[] = []
  private rowFailures: RowFailure[] = []

  get url() {
    return `http://127.0.0.1:${this.port}`
  }

  async start(port = 0) {
    this.http.server.keepAliveTimeout = 60_000
    this.port = await this.http.listen(port)
    return this
  }

  async stop() {
    await this.http.close()
  }

  /** Stops listening: clients get ECONNREFUSED until `acceptConnections`. */
  async refuseConnections() {
    await this.stop()
    /* Let clients see their kept-alive sockets close, so the next call connects (and is refused). */
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  /** Listens again on the same port, with the same state. */
  async acceptConnections() {
    await this.start(this.port)
  }

  /** Next `times` insertAll attempts of rows matching `match` get a per-row error. */
  failRows(
    match: RowFailure['match'],
    { reason = 'backendError', message = 'Temporary failure', times = 1 } = {}
  ) {
    this.rowFailures.push({ match, reason, message, remaining: times })
  }

  /** Stored rows of a table (after de-duplication), in arrival order. */
  rowsOf(table: string, dataset?: string) {
    const state = this.findTable(table, dataset)
    return state ? [...state.rows.values()] : []
  }

  /** Every insertId sent for a table, repeats included. */
  sentInsertIds(table: string) {
    return this.insertAllCalls
      .filter((call) => call.table === table)
      .flatMap((call) => call.rows.map((row) => row.insertId))
  }

  tableMetadata(table: string, dataset?: string): Record<string, any> {
    const state = this.findTable(table, dataset)
    if (!state) throw new Error(`fake BigQuery has no table ${table}`)
    return state.metadata
  }

  private findTable(table: string, dataset?: string) {
    for (const [key, state] of this.tables) {
      const [, datasetId, tableId] = key.split('/')
      if (tableId === table && (!dataset || dataset === datasetId)) return state
    }
    return undefined
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url ?? '/', this.url)
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname })

    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(text),
      })
      res.end(text)
    }

    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(raw)
      this.tokenRequests.push(form)
      return send(200, {
        access_token: this.requiredToken ?? 'fake-token',
        expires_in: 3600,
        token_type: 'Bearer',
      })
    }
    if (this.mode === 'down') {
      return send(
        503,
        apiError(503, 'UNAVAILABLE', 'backendError', 'The service is currently unavailable.')
      )
    }
    if (this.requiredToken && req.headers.authorization !== `Bearer ${this.requiredToken}`) {
      return send(
        401,
        apiError(401, 'UNAUTHENTICATED', 'unauthorized', 'Request is missing valid credentials.')
      )
    }

    let body: any = {}
    try {
      body = raw ? JSON.parse(raw) : {}
    } catch {
      return send(400, apiError(400, 'INVALID_ARGUMENT', 'parseError', 'Parse Error'))
    }

    const parts = url.pathname
      .replace(/^\/bigquery\/v2\//, '')
      .split('/')
      .map(decodeURIComponent)
    // projects/{p}/datasets[/{d}[/tables[/{t}[/insertAll]]]]
    if (parts[0] !== 'projects' || parts[2] !== 'datasets') {
      return send(404, apiError(404, 'NOT_FOUND', 'notFound', `Unknown path ${url.pathname}`))
    }
    const projectId = parts[1]
    const datasetId = parts[3]
    const tableId = parts[5]

    if (!datasetId) {
      if (req.method !== 'POST')
        return send(405, apiError(405, 'METHOD', 'badRequest', 'Not allowed'))
      const id = body?.datasetReference?.datasetId
      const key = `${projectId}/${id}`
      if (this.datasets.has(key)) {
        return send(
          409,
          apiError(409, 'ALREADY_EXISTS', 'duplicate', `Already Exists: Dataset ${projectId}:${id}`)
        )
      }
      const metadata = {
        kind: 'bigquery#dataset',
        id: `${projectId}:${id}`,
        datasetReference: { projectId, datasetId: id },
        location: body.location ?? 'US',
      }
      this.datasets.set(key, metadata)
      return send(200, metadata)
    }

    const datasetKey = `${projectId}/${datasetId}`
    const dataset = this.datasets.get(datasetKey)
    if (!dataset) {
      return send(
        404,
        apiError(404, 'NOT_FOUND', 'notFound', `Not found: Dataset ${projectId}:${datasetId}`)
      )
    }
    if (parts.length === 4) {
      if (req.method === 'GET') return send(200, dataset)
      return send(405, apiError(405, 'METHOD', 'badRequest', 'Not allowed'))
    }

    if (!tableId) {
      if (req.method !== 'POST')
        return send(405, apiError(405, 'METHOD', 'badRequest', 'Not allowed'))
      const id = body?.tableReference?.tableId
      const key = `${datasetKey}/${id}`
      if (this.tables.has(key)) {
        return send(
          409,
          apiError(
            409,
            'ALREADY_EXISTS',
            'duplicate',
            `Already Exists: Table ${projectId}:${datasetId}.${id}`
          )
        )
      }
      const metadata = {
        ...body,
        kind: 'bigquery#table',
        id: `${projectId}:${datasetId}.${id}`,
        tableReference: { projectId, datasetId, tableId: id },
        schema: { fields: legacyFields(body.schema?.fields ?? []) },
        type: 'TABLE',
      }
      this.tables.set(key, { metadata, rows: new Map() })
      return send(200, metadata)
    }

    const table = this.tables.get(`${datasetKey}/${tableId}`)
    if (!table) {
      return send(
        404,
        apiError(
          404,
          'NOT_FOUND',
          'notFound',
          `Not found: Table ${projectId}:${datasetId}.${tableId}`
        )
      )
    }
    if (parts.length === 6) {
      if (req.method === 'GET') return send(200, table.metadata)
      return send(405, apiError(405, 'METHOD', 'badRequest', 'Not allowed'))
    }
    if (parts[6] === 'insertAll' && req.method === 'POST') {
      const answer = this.insertAll(tableId, table, body)
      if (this.dropResponses > 0) {
        this.dropResponses -= 1
        req.socket.destroy()
        return
      }
      return send(200, answer)
    }
    return send(404, apiError(404, 'NOT_FOUND', 'notFound', `Unknown path ${url.pathname}`))
  }

  private insertAll(tableId: string, table: TableState, body: any) {
    const rows: { insertId: string; json: Record<string, any> }[] = body.rows ?? []
    const skipInvalidRows = body.skipInvalidRows === true
    this.insertAllCalls.push({ table: tableId, rows, skipInvalidRows })

    const errors = new Map<number, { reason: string; message: string }>()
    const used = new Set<RowFailure>()
    rows.forEach((row, index) => {
      const problem = validate(table.metadata.schema.fields, row.json)
      if (problem) {
        errors.set(index, { reason: 'invalid', message: problem })
        return
      }
      const failure = this.rowFailures.find((candidate) => candidate.match(row))
      if (failure) {
        used.add(failure)
        errors.set(index, { reason: failure.reason, message: failure.message })
      }
    })
    /* A failure rule counts down once per request it applied to. */
    for (const failure of used) failure.remaining -= 1
    this.rowFailures = this.rowFailures.filter((failure) => failure.remaining > 0)

    /* Without skipInvalidRows an invalid row stops the whole request. */
    const anyInvalid = [...errors.values()].some((error) => error.reason === 'invalid')
    rows.forEach((row, index) => {
      if (errors.has(index)) return
      if (anyInvalid && !skipInvalidRows) {
        errors.set(index, { reason: 'stopped', message: '' })
        return
      }
      if (!table.rows.has(row.insertId)) table.rows.set(row.insertId, row.json)
    })

    const insertErrors = [...errors.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, error]) => ({
        index,
        errors: [{ reason: error.reason, location: '', debugInfo: '', message: error.message }],
      }))
    return insertErrors.length
      ? { kind: 'bigquery#tableDataInsertAllResponse', insertErrors }
      : { kind: 'bigquery#tableDataInsertAllResponse' }
  }
}
