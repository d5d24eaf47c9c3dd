import { request as httpRequest } from 'node:http'

/*
 * A tus 1.0.0 client over plain HTTP for the protocol tests: a real login
 * (session cookie + the CSRF token of a page), then HEAD/POST/PATCH/DELETE
 * with the protocol headers. Bodies are Buffers; `cut` sends only part of
 * the declared body and then resets the connection.
 */
export type TusSession = { cookie: string; csrf: string }

export const TUS = { 'Tus-Resumable': '1.0.0' }

function base() {
  return `http://${process.env.HOST}:${process.env.PORT}`
}

/** Upload-Metadata: comma-separated `key base64(value)` pairs. */
export function tusMetadata(values: Record<string, string>) {
  return Object.entries(values)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',')
}

export async function tusLogin(email: string, password = 'correct horse battery') {
  const jar = new Map<string, string>()
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const index = pair.indexOf('=')
      jar.set(pair.slice(0, index), pair.slice(index + 1))
    }
  }
  const cookie = () => [...jar].map(([key, value]) => `${key}=${value}`).join('; ')
  const csrfOf = (html: string) => /name='_csrf' value='([^']+)'/.exec(html)![1]
  const loginPage = await fetch(`${base()}/login`)
  keep(loginPage)
  const login = await fetch(`${base()}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Cookie': cookie() },
    body: new URLSearchParams({ email, password, _csrf: csrfOf(await loginPage.text()) }),
  })
  keep(login)
  if (login.headers.get('location') !== '/tasks') throw new Error('login failed')
  const page = await fetch(`${base()}/tasks/new`, { headers: { Cookie: cookie() } })
  keep(page)
  return { cookie: cookie(), csrf: csrfOf(await page.text()) }
}

export type TusAnswer = { status: number; headers: Headers; text: string; json: () => any }

/**
 * One tus request (`path` on the test server, or a full URL). `session: null`
 * sends no cookie; `csrf: false` no X-CSRF-Token.
 */
export async function tus(
  session: TusSession | null,
  method: 'POST' | 'HEAD' | 'PATCH' | 'DELETE' | 'OPTIONS',
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer; csrf?: boolean } = {}
): Promise<TusAnswer> {
  const headers: Record<string, string> = { ...TUS, ...options.headers }
  if (session) headers['Cookie'] = session.cookie
  if (session && options.csrf !== false && method !== 'HEAD') headers['X-CSRF-Token'] = session.csrf
  if (options.body && !headers['Content-Type'])
    headers['Content-Type'] = 'application/offset+octet-stream'
  const url = path.startsWith('http') ? path : `${base()}${path}`
  const response = await fetch(url, {
    method,
    headers,
    body: options.body ? new Uint8Array(options.body) : undefined,
    redirect: 'manual',
  })
  const text = method === 'HEAD' ? '' : await response.text()
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) }
}

/** Creates an upload; returns its path (/uploads/<id>). */
export async function tusCreate(
  session: TusSession,
  length: number,
  metadata: Record<string, string>,
  origin = ''
) {
  const created = await tus(session, 'POST', `${origin}/uploads`, {
    headers: { 'Upload-Length': String(length), 'Upload-Metadata': tusMetadata(metadata) },
  })
  if (created.status !== 201) throw new Error(`creation failed: ${created.status} ${created.text}`)
  return `${origin}${created.headers.get('location')!}`
}

export function tusPatch(session: TusSession, path: string, offset: number, body: Buffer) {
  return tus(session, 'PATCH', path, { headers: { 'Upload-Offset': String(offset) }, body })
}

/**
 * A PATCH whose connection is reset after `sendBytes` of a declared
 * `body.length`: the server keeps what arrived, the next HEAD tells.
 * `path` on the test server, or a full URL.
 */
export function tusPatchCut(
  session: TusSession,
  path: string,
  offset: number,
  body: Buffer,
  sendBytes: number
) {
  return new Promise<void>((resolve) => {
    const req = httpRequest(path.startsWith('http') ? path : `${base()}${path}`, {
      method: 'PATCH',
      headers: {
        ...TUS,
        'Cookie': session.cookie,
        'X-CSRF-Token': session.csrf,
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': String(offset),
        'Content-Length': String(body.length),
      },
    })
    req.on('error', () => resolve())
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve())
    })
    req.write(body.subarray(0, sendBytes), () => {
      setTimeout(() => {
        req.destroy()
        resolve()
      }, 200)
    })
  })
}
