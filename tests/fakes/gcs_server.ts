import { createHash, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto'
import { FakeHttpServer } from '#tests/fakes/fake_http_server'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/*
 * A fake Google Cloud Storage over real HTTP on 127.0.0.1: the part of the
 * JSON API that @google-cloud/storage v7 sends for what the app does
 * (flydrive's GCS driver plus media storage), and V4 signed-URL reads on
 * the XML API path, as documented:
 *
 * - uploads: `POST /upload/storage/v1/b/:bucket/o` with `uploadType=multipart`
 *   (multipart/related: JSON metadata, then the media; what the driver's
 *   putStream sends, it sets `resumable: false`) or `uploadType=media`;
 *   answered 200 with the object resource;
 * - `GET /storage/v1/b/:bucket/o/:object`: the object resource (size and
 *   generation as strings, md5Hash and crc32c base64); `alt=media` sends
 *   the bytes with `x-goog-hash`, `x-goog-generation`,
 *   `x-goog-stored-content-*`, and a `Range` gets 206 + Content-Range (416
 *   when unsatisfiable);
 * - `DELETE` of an object → 204; `GET /storage/v1/b/:bucket/o` lists with
 *   `prefix`, `delimiter`, `maxResults` / `pageToken`;
 * - errors as `{"error":{"code","message","errors":[{message,domain,reason}]}}`;
 * - `GET /:bucket/:object?X-Goog-Signature=…` (a V4 signed URL): every
 *   documented X-Goog-* parameter, the expiry and the RSA signature are
 *   checked against the generated service-account key; XML errors.
 *
 * It writes that service-account key file (`keyFile`) with its own
 * `token_uri`, so a client that asked for an OAuth token would show up in
 * `tokenRequests` instead of reaching Google. Switches: `failNextUploads`,
 * `failNextChunks`, `failNextDeletes` (503 backendError) and `corruptNextUpload` (store other bytes, and
 * answer either truthfully or with the hashes of what was sent).
 */

export type GcsRequest = {
  method: string
  path: string
  query: Record<string, string>
  range: string | null
  /** Content-Range of a resumable chunk or status query. */
  contentRange: string | null
  status: number
  /** Object bytes sent in the answer (media reads). */
  bytesSent: number
}

type StoredObject = {
  bytes: Buffer
  contentType: string
  generation: string
  metageneration: number
  created: Date
  /** Custom metadata (the resource's `metadata`: string keys and values). */
  custom: Record<string, string>
  /** Set on composite objects (objects.compose): they have a crc32c and no md5Hash. */
  componentCount?: number
  /** What the object resource reports; normally derived from `bytes`. */
  reported?: { size: number; md5: string; crc32c: string }
  /** The hashes of `bytes`, once computed. */
  hashes?: { size: number; md5: string; crc32c: string }
}

type Session = {
  name: string
  contentType: string
  custom: Record<string, string>
  /** X-Upload-Content-Length, when the client declared it. */
  declared: number | null
  bytes: Buffer
  finished: StoredObject | null
  cancelled: boolean
}

type Corruption = {
  change: 'flip' | 'truncate'
  /** 'stored' = hashes of what is kept (the client's check sees it); 'sent' = a store that lies in its answer. */
  answer: 'stored' | 'sent'
}

const MAX_BODY = 256 * 1024 * 1024
/* objects.compose: at most 32 sources per request, 1024 components per composite object. */
const MAX_COMPOSE_SOURCES = 32
const MAX_COMPONENTS = 1024
/* GCS persists resumable data in multiples of 256 KiB (except the last chunk). */
const QUANTUM = 256 * 1024
const SEVEN_DAYS = 7 * 24 * 60 * 60

/* CRC32C (Castagnoli, reflected 0x82F63B78), as GCS reports it: 4 bytes big-endian, base64. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32c(bytes: Buffer) {
  let crc = 0xffffffff
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8)
  const out = Buffer.alloc(4)
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0)
  return out.toString('base64')
}

function md5(bytes: Buffer) {
  return createHash('md5').update(bytes).digest('base64')
}

/* RFC 3986 encoding, as the V4 canonical query uses it. */
function rfc3986(value: string) {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
  )
}

/** Custom metadata merged into `base`: values become strings, a null value removes its key. */
function customMetadata(base: Record<string, string>, changes: unknown) {
  const merged = { ...base }
  if (!changes || typeof changes !== 'object') return merged
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete merged[key]
    else merged[key] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  return merged
}

function jsonError(code: number, reason: string, message: string) {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }] } }
}

export class FakeGcsServer {
  readonly bucket = 'vgen-test'
  readonly projectId = 'vgen-test'
  readonly clientEmail = 'vgen-app@vgen-test.iam.gserviceaccount.com'
  url = ''
  keyFile = ''
  readonly requests: GcsRequest[] = []
  readonly tokenRequests: string[] = []
  /** Signed-URL reads refused, with the reason (XML error code). */
  readonly signedRefusals: string[] = []
  private objects = new Map<string, StoredObject>()
  private http: FakeHttpServer | null = null
  private directory = ''
  private publicKey = ''
  private uploadFailures = 0
  private chunkFailures = 0
  private deleteFailures = 0
  private cutReads = 0
  private sessions = new Map<string, Session>()
  private corruption: Corruption | null = null
  private generationClock = BigInt(Date.now()) * 1000n

  async start() {
    this.directory = await mkdtemp(join(tmpdir(), 'vgen-gcs-'))
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    this.publicKey = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    this.http = new FakeHttpServer((request, response) => {
      this.handle(request, response).catch((error) => {
        if (!response.headersSent)
          this.json(response, 500, jsonError(500, 'backendError', String(error)))
        else response.destroy()
      })
    })
    this.url = `http://127.0.0.1:${await this.http.listen()}`
    this.keyFile = join(this.directory, 'service-account.json')
    await writeFile(
      this.keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: this.projectId,
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: this.clientEmail,
        client_id: '100000000000000000001',
        auth_uri: `${this.url}/o/oauth2/auth`,
        token_uri: `${this.url}/token`,
      })
    )
    return this
  }

  async stop() {
    await this.http?.close()
    await rm(this.directory, { recursive: true, force: true })
  }

  /** The app's environment for DRIVE_DISK=gcs against this server. */
  appEnv(extra: Record<string, string> = {}) {
    return {
      DRIVE_DISK: 'gcs',
      GCS_API_ENDPOINT: this.url,
      GCS_BUCKET: this.bucket,
      GCS_KEY: this.keyFile,
      ...extra,
    }
  }

  /** The next `count` uploads are answered 503 (after the body was read). */
  failNextUploads(count: number) {
    this.uploadFailures = count
  }

  /** The next `count` resumable chunk PUTs keep part of their bytes, then answer 503. */
  failNextChunks(count: number) {
    this.chunkFailures = count
  }

  /** The next `count` media reads send half their bytes, then drop the connection. */
  cutNextReads(count: number) {
    this.cutReads = count
  }

  /** The next `count` object deletes are answered 503 (nothing deleted). */
  failNextDeletes(count: number) {
    this.deleteFailures = count
  }

  corruptNextUpload(corruption: Corruption) {
    this.corruption = corruption
  }

  reset() {
    this.requests.length = 0
    this.tokenRequests.length = 0
    this.signedRefusals.length = 0
    this.uploadFailures = 0
    this.chunkFailures = 0
    this.deleteFailures = 0
    this.cutReads = 0
    this.corruption = null
    this.sessions.clear()
  }

  keys(prefix = '') {
    return [...this.objects.keys()].filter((name) => name.startsWith(prefix)).sort()
  }

  bytes(name: string) {
    const object = this.objects.get(name)
    if (!object) throw new Error(`no object ${name}`)
    return object.bytes
  }

  put(name: string, bytes: Buffer, contentType = 'application/octet-stream') {
    this.objects.set(name, this.newObject(bytes, contentType))
  }

  /** The object resource as objects.get answers it (null when there is no such object). */
  describe(name: string) {
    const object = this.objects.get(name)
    return object ? this.resource(name, object) : null
  }

  private newObject(
    bytes: Buffer,
    contentType: string,
    custom: Record<string, string> = {}
  ): StoredObject {
    this.generationClock += 1n
    return {
      bytes,
      contentType,
      generation: String(this.generationClock),
      metageneration: 1,
      created: new Date(),
      custom,
    }
  }

  private resource(name: string, object: StoredObject) {
    /* An object's bytes never change: its hashes are computed once (a 200 MB object is read often). */
    object.hashes ??= {
      size: object.bytes.length,
      md5: md5(object.bytes),
      crc32c: crc32c(object.bytes),
    }
    const reported = object.reported ?? object.hashes
    const composite = object.componentCount !== undefined
    const encoded = encodeURIComponent(name)
    const self = `${this.url}/storage/v1/b/${this.bucket}/o/${encoded}`
    const time = object.created.toISOString()
    return {
      kind: 'storage#object',
      id: `${this.bucket}/${name}/${object.generation}`,
      selfLink: self,
      mediaLink: `${this.url}/download/storage/v1/b/${this.bucket}/o/${encoded}?generation=${object.generation}&alt=media`,
      name,
      bucket: this.bucket,
      generation: object.generation,
      metageneration: String(object.metageneration),
      contentType: object.contentType,
      storageClass: 'STANDARD',
      size: String(reported.size),
      /* GCS documents composite objects as having no MD5 hash, only a CRC32C. */
      ...(composite ? { componentCount: object.componentCount } : { md5Hash: reported.md5 }),
      crc32c: reported.crc32c,
      ...(Object.keys(object.custom).length ? { metadata: { ...object.custom } } : {}),
      etag: Buffer.from(`${object.generation}0${object.metageneration}`, 'utf8').toString('base64'),
      timeCreated: time,
      updated: time,
      timeStorageClassUpdated: time,
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', this.url)
    const query = Object.fromEntries(url.searchParams)
    const entry: GcsRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query,
      range: request.headers.range ?? null,
      contentRange: request.headers['content-range'] ?? null,
      status: 0,
      bytesSent: 0,
    }
    this.requests.push(entry)
    response.once('finish', () => (entry.status = response.statusCode))
    const path = url.pathname

    if (path === '/token') {
      this.tokenRequests.push(request.method ?? '')
      await this.readBody(request)
      return this.json(response, 400, { error: 'invalid_grant', error_description: 'fake' })
    }
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)
    if (upload && request.method === 'POST' && query.uploadType === 'resumable') {
      return this.startSession(request, response, upload[1], query)
    }
    if (upload && request.method === 'POST') return this.upload(request, response, upload[1], query)
    if (upload && query.upload_id && ['PUT', 'POST'].includes(request.method!)) {
      return this.chunk(request, response, query.upload_id)
    }
    if (upload && query.upload_id && request.method === 'DELETE') {
      const session = this.sessions.get(query.upload_id)
      if (session) session.cancelled = true
      /* GCS answers a cancelled session with 499 Client Closed Request. */
      return this.json(
        response,
        499,
        jsonError(499, 'clientClosedRequest', 'Client Closed Request')
      )
    }

    const compose = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/compose$/.exec(path)
    if (compose && request.method === 'POST') {
      if (compose[1] !== this.bucket) return this.noBucket(response, compose[1])
      return this.compose(request, response, decodeURIComponent(compose[2]), query)
    }
    const rewrite =
      /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/rewriteTo\/b\/([^/]+)\/o\/([^/]+)$/.exec(path)
    if (rewrite && request.method === 'POST') {
      if (rewrite[1] !== this.bucket) return this.noBucket(response, rewrite[1])
      if (rewrite[3] !== this.bucket) return this.noBucket(response, rewrite[3])
      const [from, to] = [rewrite[2], rewrite[4]].map(decodeURIComponent)
      return this.rewrite(request, response, from, to, query)
    }
    const object = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path)
    if (object) {
      if (object[1] !== this.bucket) return this.noBucket(response, object[1])
      const name = decodeURIComponent(object[2])
      if (request.method === 'GET' && query.alt === 'media')
        return this.media(request, response, entry, name)
      if (request.method === 'GET') return this.metadata(response, name)
      if (request.method === 'PATCH') return this.patch(request, response, name, query)
      if (request.method === 'DELETE') return this.remove(response, name)
    }
    const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)
    if (list && request.method === 'GET') {
      if (list[1] !== this.bucket) return this.noBucket(response, list[1])
      return this.list(response, query)
    }
    if (url.searchParams.has('X-Goog-Signature') && ['GET', 'HEAD'].includes(request.method!)) {
      return this.signedRead(request, response, entry, url)
    }
    return this.json(response, 404, jsonError(404, 'notFound', 'Not Found'))
  }

  private noBucket(response: ServerResponse, bucket: string) {
    return this.json(
      response,
      404,
      jsonError(404, 'notFound', `The specified bucket does not exist: ${bucket}`)
    )
  }

  private noObject(response: ServerResponse, name: string) {
    return this.json(
      response,
      404,
      jsonError(404, 'notFound', `No such object: ${this.bucket}/${name}`)
    )
  }

  private async upload(
    request: IncomingMessage,
    response: ServerResponse,
    bucket: string,
    query: Record<string, string>
  ) {
    const body = await this.readBody(request)
    if (body === null) {
      return this.json(response, 413, jsonError(413, 'uploadTooLarge', 'Upload too large'))
    }
    if (bucket !== this.bucket) return this.noBucket(response, bucket)
    if (this.uploadFailures > 0) {
      this.uploadFailures--
      return this.json(
        response,
        503,
        jsonError(503, 'backendError', 'We encountered an internal error. Please try again.')
      )
    }
    let name = query.name
    let media: Buffer
    let contentType = 'application/octet-stream'
    let custom: Record<string, string> = {}
    if (query.uploadType === 'multipart') {
      const parts = this.multipart(request.headers['content-type'] ?? '', body)
      if (!parts || parts.length !== 2) {
        return this.json(
          response,
          400,
          jsonError(
            400,
            'invalid',
            'Metadata part is too large or the body is not multipart/related.'
          )
        )
      }
      let metadata: Record<string, unknown>
      try {
        metadata = JSON.parse(parts[0].body.toString('utf8') || '{}')
      } catch {
        return this.json(response, 400, jsonError(400, 'parseError', 'Parse Error'))
      }
      if (typeof metadata.name === 'string') name = metadata.name
      if (typeof metadata.contentType === 'string') contentType = metadata.contentType
      else if (parts[1].contentType) contentType = parts[1].contentType
      custom = customMetadata({}, metadata.metadata)
      media = parts[1].body
    } else if (query.uploadType === 'media') {
      media = body
      contentType = request.headers['content-type'] ?? contentType
    } else {
      return this.json(
        response,
        400,
        jsonError(400, 'invalid', `Invalid upload type: ${query.uploadType ?? '(none)'}`)
      )
    }
    if (!name) return this.json(response, 400, jsonError(400, 'required', 'Required'))
    if (query.ifGenerationMatch === '0' && this.objects.has(name)) {
      return this.json(
        response,
        412,
        jsonError(
          412,
          'conditionNotMet',
          'At least one of the pre-conditions you specified did not hold.'
        )
      )
    }
    const { answer } = this.store(name, media, contentType, custom)
    return this.json(response, 200, answer)
  }

  /** Keeps `media` under `name` (or what a corruption switch makes of it); returns the answer. */
  private store(
    name: string,
    media: Buffer,
    contentType: string,
    custom: Record<string, string> = {}
  ) {
    const corruption = this.corruption
    this.corruption = null
    const kept = corruption ? this.corrupt(media, corruption.change) : media
    const stored = this.newObject(kept, contentType, custom)
    this.objects.set(name, stored)
    /* 'sent': the answer describes what was sent; later reads report what is kept. */
    const answer =
      corruption?.answer === 'sent'
        ? this.resource(name, { ...stored, bytes: media })
        : this.resource(name, stored)
    return { stored, answer }
  }

  /** `uploadType=resumable`: a session whose URI is in `Location` (200, empty body). */
  private async startSession(
    request: IncomingMessage,
    response: ServerResponse,
    bucket: string,
    query: Record<string, string>
  ) {
    const body = await this.readBody(request)
    if (bucket !== this.bucket) return this.noBucket(response, bucket)
    if (this.uploadFailures > 0) {
      this.uploadFailures--
      return this.json(
        response,
        503,
        jsonError(503, 'backendError', 'We encountered an internal error. Please try again.')
      )
    }
    let metadata: Record<string, unknown> = {}
    try {
      if (body?.length) metadata = JSON.parse(body.toString('utf8'))
    } catch {
      return this.json(response, 400, jsonError(400, 'parseError', 'Parse Error'))
    }
    const name = typeof metadata.name === 'string' ? metadata.name : query.name
    if (!name) return this.json(response, 400, jsonError(400, 'required', 'Required'))
    const declaredHeader = request.headers['x-upload-content-length']
    const declared = declaredHeader === undefined ? null : Number(declaredHeader)
    if (declared !== null && (!Number.isInteger(declared) || declared < 0)) {
      return this.json(response, 400, jsonError(400, 'invalid', 'Invalid X-Upload-Content-Length'))
    }
    const id = randomBytes(16).toString('hex')
    this.sessions.set(id, {
      name,
      contentType: String(request.headers['x-upload-content-type'] ?? 'application/octet-stream'),
      custom: customMetadata({}, metadata.metadata),
      declared,
      bytes: Buffer.alloc(0),
      finished: null,
      cancelled: false,
    })
    const location = new URL(`/upload/storage/v1/b/${this.bucket}/o`, this.url)
    location.searchParams.set('uploadType', 'resumable')
    location.searchParams.set('name', name)
    location.searchParams.set('upload_id', id)
    response.setHeader('location', location.href)
    response.statusCode = 200
    response.end()
  }

  /**
   * A PUT on a session URI. `Content-Range: bytes a-b/total` (the total is
   * `*` while unknown) carries bytes; a range of `*` (no body) asks for the
   * status. Unfinished: 308 with `Range: bytes=0-N` (what is persisted,
   * in 256 KiB steps; no Range header when nothing is). The chunk that
   * reaches the total finishes the object (200 + resource): it must match
   * the declared total and, when sent, `X-Goog-Hash`.
   */
  private async chunk(request: IncomingMessage, response: ServerResponse, id: string) {
    const body = (await this.readBody(request)) ?? Buffer.alloc(0)
    const session = this.sessions.get(id)
    if (!session || session.cancelled) {
      return this.json(response, 404, jsonError(404, 'notFound', 'No such upload session'))
    }
    if (session.finished)
      return this.json(response, 200, this.resource(session.name, session.finished))
    const header = String(request.headers['content-range'] ?? '')
    const status = /^bytes \*\/(\d+|\*)$/.exec(header)
    const data = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header)
    const bad = (message: string) => this.json(response, 400, jsonError(400, 'invalid', message))
    const incomplete = () => {
      response.statusCode = 308
      if (session.bytes.length) response.setHeader('range', `bytes=0-${session.bytes.length - 1}`)
      response.end()
    }
    if (status) {
      if (body.length) return bad('A status request has no body.')
      const total = status[1] === '*' ? null : Number(status[1])
      if (total !== null && total === session.bytes.length)
        return this.finish(request, response, session, total, session.bytes)
      return incomplete()
    }
    if (!data) return bad(`Failed to parse Content-Range header: ${header || '(none)'}`)
    const first = Number(data[1])
    const last = Number(data[2])
    const total = data[3] === '*' ? null : Number(data[3])
    if (last < first || last - first + 1 !== body.length) {
      return bad('The Content-Range does not match the length of the body.')
    }
    if (first > session.bytes.length) {
      return bad(
        `Invalid request: the range starts at ${first}, ${session.bytes.length} bytes are persisted.`
      )
    }
    if (
      total !== null &&
      (last + 1 > total || (session.declared !== null && total !== session.declared))
    ) {
      return bad('The final size does not match the declared total of the upload.')
    }
    /* Bytes already persisted (a resend after a lost answer) are skipped. */
    const fresh = body.subarray(session.bytes.length - first)
    const end = first + body.length
    if (total !== null && end === total) {
      if (this.chunkFailures > 0) return this.failChunk(response, session, fresh)
      return this.finish(request, response, session, total, Buffer.concat([session.bytes, fresh]))
    }
    if (this.chunkFailures > 0) return this.failChunk(response, session, fresh)
    const persisted = Math.floor(end / QUANTUM) * QUANTUM
    if (persisted > session.bytes.length) {
      session.bytes = Buffer.concat([
        session.bytes,
        fresh.subarray(0, persisted - session.bytes.length),
      ])
    }
    return incomplete()
  }

  /** A 503 mid-chunk: part of it (whole 256 KiB steps) was persisted, as after a dropped link. */
  private failChunk(response: ServerResponse, session: Session, fresh: Buffer) {
    this.chunkFailures--
    const half = Math.floor((session.bytes.length + fresh.length / 2) / QUANTUM) * QUANTUM
    if (half > session.bytes.length) {
      session.bytes = Buffer.concat([session.bytes, fresh.subarray(0, half - session.bytes.length)])
    }
    return this.json(
      response,
      503,
      jsonError(503, 'backendError', 'We encountered an internal error. Please try again.')
    )
  }

  /** Finishes the object from `bytes`; a refused final chunk leaves the session as it was. */
  private finish(
    request: IncomingMessage,
    response: ServerResponse,
    session: Session,
    total: number,
    bytes: Buffer
  ) {
    if (session.declared !== null && total !== session.declared) {
      return this.json(
        response,
        400,
        jsonError(400, 'invalid', 'The final size does not match the declared total.')
      )
    }
    const hashes = Object.fromEntries(
      String(request.headers['x-goog-hash'] ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1)])
    )
    if (
      (hashes.crc32c && hashes.crc32c !== crc32c(bytes)) ||
      (hashes.md5 && hashes.md5 !== md5(bytes))
    ) {
      return this.json(
        response,
        400,
        jsonError(400, 'invalid', 'Provided CRC32C or MD5 does not match the data received.')
      )
    }
    const { stored, answer } = this.store(session.name, bytes, session.contentType, session.custom)
    session.finished = stored
    return this.json(response, 200, answer)
  }

  private corrupt(bytes: Buffer, change: Corruption['change']) {
    if (change === 'truncate') return Buffer.from(bytes.subarray(0, Math.floor(bytes.length / 2)))
    const copy = Buffer.from(bytes)
    const at = Math.floor(copy.length / 2)
    copy[at] = copy[at] ^ 0xff
    return copy
  }

  /** Splits a multipart/related body into its parts (null = not multipart/related). */
  private multipart(contentType: string, body: Buffer) {
    const match = /^multipart\/related;.*boundary=("?)([^";]+)\1/i.exec(contentType)
    if (!match) return null
    const delimiter = Buffer.from(`--${match[2]}`)
    const parts: { contentType: string | null; body: Buffer }[] = []
    let at = body.indexOf(delimiter)
    if (at < 0) return null
    while (true) {
      at += delimiter.length
      if (body.subarray(at, at + 2).toString() === '--') break
      const headerEnd = body.indexOf('\r\n\r\n', at)
      const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd)
      if (headerEnd < 0 || next < 0) return null
      const headers = body.subarray(at, headerEnd).toString('latin1')
      parts.push({
        contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? null,
        body: body.subarray(headerEnd + 4, next),
      })
      at = next + 2
    }
    return parts
  }

  /** A JSON request body (null = not JSON). */
  private async jsonBody(request: IncomingMessage) {
    const body = (await this.readBody(request)) ?? Buffer.alloc(0)
    try {
      const parsed = body.length ? JSON.parse(body.toString('utf8')) : {}
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, any>) : null
    } catch {
      return null
    }
  }

  /** `ifGenerationMatch` / `ifMetagenerationMatch` of a request against `object` (0 = must not exist). */
  private preconditionFails(object: StoredObject | undefined, query: Record<string, string>) {
    const generation = query.ifGenerationMatch
    if (generation !== undefined) {
      if (generation === '0' ? object !== undefined : object?.generation !== generation) return true
    }
    const metageneration = query.ifMetagenerationMatch
    return metageneration !== undefined && String(object?.metageneration) !== metageneration
  }

  private conditionNotMet(response: ServerResponse) {
    return this.json(
      response,
      412,
      jsonError(
        412,
        'conditionNotMet',
        'At least one of the pre-conditions you specified did not hold.'
      )
    )
  }

  /**
   * objects.patch: updates the given fields of the resource. Custom
   * `metadata` keys are merged, a key set to null is removed; the
   * generation stays, the metageneration goes up.
   */
  private async patch(
    request: IncomingMessage,
    response: ServerResponse,
    name: string,
    query: Record<string, string>
  ) {
    const body = await this.jsonBody(request)
    if (!body) return this.json(response, 400, jsonError(400, 'parseError', 'Parse Error'))
    const object = this.objects.get(name)
    if (!object) return this.noObject(response, name)
    if (this.preconditionFails(object, query)) return this.conditionNotMet(response)
    if (typeof body.contentType === 'string') object.contentType = body.contentType
    if ('metadata' in body) {
      object.custom = body.metadata === null ? {} : customMetadata(object.custom, body.metadata)
    }
    object.metageneration += 1
    return this.json(response, 200, this.resource(name, object))
  }

  /**
   * objects.compose: the sources (1 to 32, this bucket, each at its
   * `generation` when given, else 404) concatenated in order into the
   * destination named in the path. The result is a composite object:
   * componentCount = the sum of the sources' (a plain object counts 1, at
   * most 1024), crc32c of the composed bytes, no md5Hash; its properties
   * (contentType, custom metadata) come from the request's `destination`,
   * not from the sources. `ifGenerationMatch` guards the destination.
   */
  private async compose(
    request: IncomingMessage,
    response: ServerResponse,
    destination: string,
    query: Record<string, string>
  ) {
    const body = await this.jsonBody(request)
    if (!body) return this.json(response, 400, jsonError(400, 'parseError', 'Parse Error'))
    const sources = body.sourceObjects
    if (!Array.isArray(sources) || sources.length === 0) {
      return this.json(response, 400, jsonError(400, 'required', 'Required'))
    }
    if (sources.length > MAX_COMPOSE_SOURCES) {
      return this.json(
        response,
        400,
        jsonError(
          400,
          'invalid',
          `The number of source objects provided (${sources.length}) exceeds the maximum (${MAX_COMPOSE_SOURCES}).`
        )
      )
    }
    const parts: StoredObject[] = []
    for (const source of sources as {
      name?: unknown
      generation?: unknown
      objectPreconditions?: { ifGenerationMatch?: unknown }
    }[]) {
      if (typeof source?.name !== 'string')
        return this.json(response, 400, jsonError(400, 'required', 'Required'))
      const object = this.objects.get(source.name)
      const wanted = source.generation ?? source.objectPreconditions?.ifGenerationMatch
      if (!object || (wanted !== undefined && String(wanted) !== object.generation)) {
        return this.noObject(response, source.name)
      }
      parts.push(object)
    }
    const components = parts.reduce((sum, part) => sum + (part.componentCount ?? 1), 0)
    if (components > MAX_COMPONENTS) {
      return this.json(
        response,
        400,
        jsonError(
          400,
          'invalid',
          `The number of components in the composite object (${components}) exceeds the maximum (${MAX_COMPONENTS}).`
        )
      )
    }
    if (this.preconditionFails(this.objects.get(destination), query)) {
      return this.conditionNotMet(response)
    }
    const target = (body.destination ?? {}) as { contentType?: unknown; metadata?: unknown }
    const composed = this.newObject(
      Buffer.concat(parts.map((part) => part.bytes)),
      typeof target.contentType === 'string' ? target.contentType : 'application/octet-stream',
      customMetadata({}, target.metadata)
    )
    composed.componentCount = components
    this.objects.set(destination, composed)
    return this.json(response, 200, this.resource(destination, composed))
  }

  /**
   * objects.rewrite within this bucket, done in one call (`done: true`, no
   * rewriteToken). The copy keeps the source's properties unless the body
   * names them; a composite source is copied as a composite (its
   * componentCount, no md5Hash), the conservative reading of the docs.
   */
  private async rewrite(
    request: IncomingMessage,
    response: ServerResponse,
    from: string,
    to: string,
    query: Record<string, string>
  ) {
    const body = await this.jsonBody(request)
    if (!body) return this.json(response, 400, jsonError(400, 'parseError', 'Parse Error'))
    const source = this.objects.get(from)
    if (!source || (query.sourceGeneration && query.sourceGeneration !== source.generation)) {
      return this.noObject(response, from)
    }
    if (this.preconditionFails(this.objects.get(to), query)) return this.conditionNotMet(response)
    const copy = this.newObject(
      Buffer.from(source.bytes),
      typeof body.contentType === 'string' ? body.contentType : source.contentType,
      'metadata' in body ? customMetadata({}, body.metadata) : { ...source.custom }
    )
    copy.componentCount = source.componentCount
    this.objects.set(to, copy)
    const size = String(copy.bytes.length)
    return this.json(response, 200, {
      kind: 'storage#rewriteResponse',
      totalBytesRewritten: size,
      objectSize: size,
      done: true,
      resource: this.resource(to, copy),
    })
  }

  private metadata(response: ServerResponse, name: string) {
    const object = this.objects.get(name)
    if (!object) return this.noObject(response, name)
    return this.json(response, 200, this.resource(name, object))
  }

  private media(
    request: IncomingMessage,
    response: ServerResponse,
    entry: GcsRequest,
    name: string
  ) {
    const object = this.objects.get(name)
    if (!object) return this.noObject(response, name)
    const resource = this.resource(name, object)
    response.setHeader('x-goog-generation', object.generation)
    response.setHeader('x-goog-metageneration', resource.metageneration)
    response.setHeader('x-goog-stored-content-encoding', 'identity')
    response.setHeader('x-goog-stored-content-length', resource.size)
    response.setHeader(
      'x-goog-hash',
      'md5Hash' in resource
        ? `crc32c=${resource.crc32c},md5=${resource.md5Hash}`
        : `crc32c=${resource.crc32c}`
    )
    response.setHeader('etag', resource.etag)
    return this.sendBytes(request, response, entry, object, () =>
      this.json(
        response,
        416,
        jsonError(416, 'requestedRangeNotSatisfiable', 'Request range not satisfiable')
      )
    )
  }

  /** Sends the object or the one range asked for (`bytes=a-b`, `a-`, `-n`). */
  private sendBytes(
    request: IncomingMessage,
    response: ServerResponse,
    entry: GcsRequest,
    object: StoredObject,
    unsatisfiable: () => void
  ) {
    const size = object.bytes.length
    response.setHeader('accept-ranges', 'bytes')
    response.setHeader('content-type', object.contentType)
    const header = request.headers.range
    let start = 0
    let end = size - 1
    let partial = false
    if (header) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
      if (match && (match[1] || match[2])) {
        if (!match[1]) {
          start = Math.max(0, size - Number(match[2]))
        } else {
          start = Number(match[1])
          if (match[2]) end = Math.min(Number(match[2]), size - 1)
        }
        if (start >= size || end < start) {
          response.setHeader('content-range', `bytes */${size}`)
          return unsatisfiable()
        }
        partial = true
      }
    }
    const slice = object.bytes.subarray(start, end + 1)
    response.statusCode = partial ? 206 : 200
    if (partial) response.setHeader('content-range', `bytes ${start}-${end}/${size}`)
    response.setHeader('content-length', String(slice.length))
    if (request.method === 'HEAD') return response.end()
    if (this.cutReads > 0 && !('X-Goog-Signature' in entry.query)) {
      this.cutReads--
      entry.bytesSent = Math.floor(slice.length / 2)
      response.write(slice.subarray(0, entry.bytesSent), () => response.socket?.destroy())
      return
    }
    entry.bytesSent = slice.length
    response.end(slice)
  }

  private remove(response: ServerResponse, name: string) {
    if (this.deleteFailures > 0) {
      this.deleteFailures--
      return this.json(
        response,
        503,
        jsonError(503, 'backendError', 'We encountered an internal error. Please try again.')
      )
    }
    if (!this.objects.delete(name)) return this.noObject(response, name)
    response.statusCode = 204
    response.end()
  }

  private list(response: ServerResponse, query: Record<string, string>) {
    const prefix = query.prefix ?? ''
    const delimiter = query.delimiter || ''
    const max = Math.min(Number(query.maxResults) || 1000, 1000)
    const names = this.keys(prefix).filter((name) => !query.pageToken || name > query.pageToken)
    const items: ReturnType<FakeGcsServer['resource']>[] = []
    const prefixes = new Set<string>()
    let nextPageToken: string | undefined
    for (const name of names) {
      if (items.length + prefixes.size >= max) {
        nextPageToken = items.at(-1)?.name
        break
      }
      const rest = name.slice(prefix.length)
      const cut = delimiter ? rest.indexOf(delimiter) : -1
      if (cut >= 0) prefixes.add(prefix + rest.slice(0, cut + delimiter.length))
      else items.push(this.resource(name, this.objects.get(name)!))
    }
    return this.json(response, 200, {
      kind: 'storage#objects',
      ...(items.length ? { items } : {}),
      ...(prefixes.size ? { prefixes: [...prefixes] } : {}),
      ...(nextPageToken ? { nextPageToken } : {}),
    })
  }

  /** A read through a V4 signed URL (XML API: `/bucket/object`). */
  private signedRead(
    request: IncomingMessage,
    response: ServerResponse,
    entry: GcsRequest,
    url: URL
  ) {
    const refuse = (status: number, code: string, message: string) => {
      this.signedRefusals.push(code)
      response.statusCode = status
      response.setHeader('content-type', 'application/xml; charset=UTF-8')
      response.end(
        `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`
      )
    }
    const params = url.searchParams
    const required = [
      'X-Goog-Algorithm',
      'X-Goog-Credential',
      'X-Goog-Date',
      'X-Goog-Expires',
      'X-Goog-SignedHeaders',
      'X-Goog-Signature',
    ]
    const missing = required.find((name) => !params.get(name))
    if (missing) return refuse(400, 'InvalidArgument', `Missing ${missing}.`)
    if (params.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256') {
      return refuse(400, 'InvalidArgument', 'Unsupported X-Goog-Algorithm.')
    }
    const date = params.get('X-Goog-Date')!
    const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date)
    const expires = Number(params.get('X-Goog-Expires'))
    if (!dateMatch || !Number.isInteger(expires) || expires < 1 || expires > SEVEN_DAYS) {
      return refuse(400, 'InvalidArgument', 'Invalid X-Goog-Date or X-Goog-Expires.')
    }
    const [, y, mo, d, h, mi, s] = dateMatch
    const signedAt = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s)
    if (Date.now() > signedAt + expires * 1000) {
      return refuse(400, 'ExpiredToken', 'The provided token has expired.')
    }
    const [email, ...scope] = params.get('X-Goog-Credential')!.split('/')
    const credentialScope = scope.join('/')
    if (
      email !== this.clientEmail ||
      credentialScope !== `${y}${mo}${d}/auto/storage/goog4_request`
    ) {
      return refuse(400, 'InvalidArgument', 'Invalid X-Goog-Credential.')
    }
    const signedHeaders = params.get('X-Goog-SignedHeaders')!.split(';')
    if (!signedHeaders.includes('host')) {
      return refuse(400, 'InvalidArgument', 'The host header must be signed.')
    }
    /* The client signs the host name alone (no port: GCS is on the default port). */
    const headerValue = (name: string) =>
      name === 'host'
        ? (request.headers.host ?? '').replace(/:\d+$/, '')
        : String(request.headers[name] ?? '')
            .trim()
            .replace(/\s{2,}/g, ' ')
    const canonicalQuery = [...params]
      .filter(([name]) => name !== 'X-Goog-Signature')
      .map(([name, value]) => [rfc3986(name), rfc3986(value)])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([name, value]) => `${name}=${value}`)
      .join('&')
    const canonicalRequest = [
      request.method === 'HEAD' ? 'HEAD' : 'GET',
      url.pathname,
      canonicalQuery,
      signedHeaders.map((name) => `${name}:${headerValue(name)}\n`).join(''),
      signedHeaders.join(';'),
      'UNSIGNED-PAYLOAD',
    ].join('\n')
    const stringToSign = [
      'GOOG4-RSA-SHA256',
      date,
      credentialScope,
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n')
    const signature = Buffer.from(params.get('X-Goog-Signature')!, 'hex')
    const valid = createVerify('RSA-SHA256').update(stringToSign).verify(this.publicKey, signature)
    if (!valid) {
      return refuse(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.'
      )
    }
    const [, bucket, ...rest] = url.pathname.split('/')
    if (bucket !== this.bucket)
      return refuse(404, 'NoSuchBucket', 'The specified bucket does not exist.')
    const name = decodeURIComponent(rest.join('/'))
    const object = this.objects.get(name)
    if (!object) return refuse(404, 'NoSuchKey', 'The specified key does not exist.')
    return this.sendBytes(request, response, entry, object, () =>
      refuse(416, 'InvalidRange', 'The requested range cannot be satisfied.')
    )
  }

  /** The whole body, or null past MAX_BODY. */
  private readBody(request: IncomingMessage) {
    return new Promise<Buffer | null>((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      request.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size <= MAX_BODY) chunks.push(chunk)
      })
      request.once('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks)))
      request.once('error', reject)
    })
  }

  private json(response: ServerResponse, status: number, body: unknown) {
    response.statusCode = status
    response.setHeader('content-type', 'application/json; charset=UTF-8')
    response.end(JSON.stringify(body))
  }
}
