import { connect, type Socket } from 'node:net'
import { readdir, readlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/*
 * A raw-socket HTTP/1.1 client that misbehaves on purpose: bodies cut at
 * any byte, connections reset (RST) or half-closed (FIN) mid-body, bodies
 * trickled byte by byte, Content-Length that lies. Plus the probes a test
 * needs to see that the server survived: its open file descriptors
 * (/proc/<pid>/fd) and a deterministic random generator for fuzzing.
 * Reused by every suite that checks a route that reads a body.
 */

export type Target = { host: string; port: number }

/** How the client ends the request: send everything, half-close, reset, or just stop and wait. */
export type Ending = 'complete' | 'fin' | 'rst' | 'hang'

export type RawRequest = {
  method: string
  path: string
  /** An undefined value leaves a default header (host, connection) out. */
  headers?: Record<string, string | undefined>
  body?: Buffer | string
  /** Send only the first `cutAt` bytes of the body, then end as `ending` says. */
  cutAt?: number
  ending?: Ending
  /** Bytes per write and pause between writes (slow clients). */
  chunkSize?: number
  chunkDelayMs?: number
  /** Give up reading the answer after this long (then the socket is destroyed). */
  timeoutMs?: number
  /** Don't wait for an answer at all (rapid aborts). */
  noWait?: boolean
}

export type RawResponse = {
  /** null when no status line came back (the server closed or we gave up). */
  status: number | null
  headers: Record<string, string>
  /** Every Set-Cookie as [name, value] ('' = cleared). */
  cookies: [string, string][]
  body: string
  /** 'closed' = the server closed the connection; 'timeout' = we gave up; 'error' = socket error. */
  end: 'closed' | 'timeout' | 'error'
  ms: number
}

export function target(baseUrl: string): Target {
  const url = new URL(baseUrl)
  return { host: url.hostname, port: Number(url.port) }
}

/** The request line and headers. `Connection: close` unless given, so no socket outlives the test. */
export function requestHead(
  method: string,
  path: string,
  headers: Record<string, string | undefined> = {}
) {
  const all = { host: 'localhost', connection: 'close', ...headers }
  const lines = Object.entries(all)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}: ${value}`)
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

/** Parses what the server sent (status, headers, body as text; chunked bodies left as they are). */
export function parseResponse(raw: Buffer): Omit<RawResponse, 'end' | 'ms'> {
  const text = raw.toString('latin1')
  const split = text.indexOf('\r\n\r\n')
  const head = split === -1 ? text : text.slice(0, split)
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head)
  const headers: Record<string, string> = {}
  const cookies: [string, string][] = []
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = value
    if (name === 'set-cookie') {
      const [pair] = value.split(';')
      const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(value)
      const eq = pair.indexOf('=')
      cookies.push([pair.slice(0, eq), expired ? '' : pair.slice(eq + 1)])
    }
  }
  const body = split === -1 ? '' : raw.subarray(Buffer.byteLength(head, 'latin1') + 4).toString()
  return { status: match ? Number(match[1]) : null, headers, cookies, body }
}

function writeSlowly(socket: Socket, data: Buffer, chunkSize: number, delayMs: number) {
  return (async () => {
    for (let offset = 0; offset < data.length && !socket.destroyed; offset += chunkSize) {
      socket.write(data.subarray(offset, offset + chunkSize))
      if (delayMs) await sleep(delayMs)
    }
  })()
}

/**
 * Sends one request over a fresh connection and misbehaves as told.
 * Never rejects: the answer (or its absence) is the result.
 */
export function sendRaw(to: Target, request: RawRequest): Promise<RawResponse> {
  const started = Date.now()
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body ?? '')
  const sent = body.subarray(0, request.cutAt ?? body.length)
  const ending = request.ending ?? 'complete'
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let done = false
    const socket = connect(to.port, to.host)
    const finish = (end: RawResponse['end']) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (!socket.destroyed) socket.destroy()
      resolve({ ...parseResponse(Buffer.concat(chunks)), end, ms: Date.now() - started })
    }
    const timer = setTimeout(() => finish('timeout'), request.timeoutMs ?? 10_000)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', () => finish('error'))
    socket.on('close', () => finish('closed'))
    socket.once('connect', async () => {
      socket.write(requestHead(request.method, request.path, request.headers))
      if (request.chunkSize) {
        await writeSlowly(socket, sent, request.chunkSize, request.chunkDelayMs ?? 0)
      } else if (sent.length) {
        socket.write(sent)
      }
      if (socket.destroyed) return
      if (ending === 'fin') socket.end()
      else if (ending === 'rst') socket.resetAndDestroy()
      if (request.noWait || ending === 'rst') finish('closed')
    })
  })
}

export type Part = {
  name: string
  filename?: string
  contentType?: string
  content: Buffer | string
}

/** A multipart/form-data body, and the offsets where each part's content starts and ends. */
export function multipartBody(boundary: string, parts: Part[]) {
  const pieces: Buffer[] = []
  const offsets: { start: number; end: number }[] = []
  let length = 0
  const push = (piece: Buffer) => {
    pieces.push(piece)
    length += piece.length
  }
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`
    push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
          (part.contentType ? `Content-Type: ${part.contentType}\r\n` : '') +
          '\r\n'
      )
    )
    const content = Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content)
    offsets.push({ start: length, end: length + content.length })
    push(content)
    push(Buffer.from('\r\n'))
  }
  push(Buffer.from(`--${boundary}--\r\n`))
  return {
    body: Buffer.concat(pieces),
    offsets,
    contentType: `multipart/form-data; boundary=${boundary}`,
  }
}

/** The server process's open file descriptors, each with what it points to. */
export async function openFds(pid: number) {
  const names = await readdir(`/proc/${pid}/fd`)
  const links = await Promise.all(
    names.map((name) => readlink(`/proc/${pid}/fd/${name}`).catch(() => 'gone'))
  )
  return links.filter((link) => link !== 'gone')
}

/**
 * Waits until the process has at most `level` open fds (clean-up runs
 * after the request closed). Returns the last count and the fds above
 * the level, for the failure message.
 */
export async function settleFds(pid: number, level: number, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  let fds = await openFds(pid)
  while (fds.length > level && Date.now() < deadline) {
    await sleep(50)
    fds = await openFds(pid)
  }
  return { count: fds.length, fds }
}

/** Polls `check` until it returns a truthy value or the time runs out; returns the last value. */
export async function waitUntil<T>(check: () => Promise<T>, timeoutMs = 5000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs
  let value = await check()
  while (!value && Date.now() < deadline) {
    await sleep(everyMs)
    value = await check()
  }
  return value
}

/** Deterministic pseudo-random numbers (mulberry32): a fuzz run is the same on every machine. */
export function seededRandom(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)],
    bytes: (length: number) => {
      const out = Buffer.alloc(length)
      for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256)
      return out
    },
  }
}

/** Does a response body look like it leaks internals (a stack trace, a file path, an error class)? */
export function leaksInternals(body: string) {
  return /\n\s+at .+\(|node_modules|\/app\/[a-z_/]+\.(ts|js)|file:\/\/|E_[A-Z_]+:|Error: .+\n\s+at /.test(
    body
  )
}

/**
 * Signs in over raw sockets (no pooled keep-alive connection stays open,
 * so the server's fd count is not disturbed). Returns the Cookie header
 * and a CSRF token valid for that session.
 */
export async function rawSignIn(to: Target, email: string, password: string) {
  const jar = new Map<string, string>()
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const request = async (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body = ''
  ) => {
    const response = await sendRaw(to, {
      method,
      path,
      headers: jar.size ? { ...headers, cookie: cookieHeader() } : headers,
      body,
    })
    for (const [name, value] of response.cookies) {
      if (value === '') jar.delete(name)
      else jar.set(name, value)
    }
    return response
  }
  const page = await request('GET', '/login')
  const form = new URLSearchParams({ email, password, _csrf: csrfFrom(page.body) }).toString()
  const login = await request(
    'POST',
    '/login',
    {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(form)),
    },
    form
  )
  if (login.headers.location !== '/tasks') throw new Error(`sign-in failed: ${login.status}`)
  const tasks = await request('GET', '/tasks')
  return { cookie: cookieHeader(), csrf: csrfFrom(tasks.body) }
}

function csrfFrom(html: string) {
  const token = /name=['"]_csrf['"] value=['"]([^'"]+)['"]/.exec(html)?.[1]
  if (!token) throw new Error('no CSRF token on the page')
  return token
}
