import { gzipSync } from 'node:zlib'
import { multipartBody, seededRandom, type RawRequest } from '#tests/helpers/hostile'

/*
 * Deterministic request generator for the route fuzzer: every route of
 * the router's own list, any method, parameters and query strings that
 * are real, missing, huge or hostile, bodies that are valid, malformed,
 * of the wrong type or compressed, headers that are missing or huge.
 */

export type FuzzRoute = { pattern: string; methods: string[] }

export type FuzzIdentity = {
  name: 'signed out' | 'signed in' | 'signed in, no CSRF token' | 'forged session' | 'admin'
  headers: Record<string, string>
}

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

const HOSTILE_SEGMENTS = [
  'unknown',
  '0',
  '-1',
  '00000000-0000-0000-0000-000000000000',
  '%00',
  '%ff%fe',
  '..%2f..%2fetc%2fpasswd',
  '%E2%80%8B%F0%9F%98%80',
  '%22%3E%3Cmeta%20http-equiv%3Drefresh%3E',
  'a'.repeat(2000),
  '1e309',
  'null',
  '%20',
]

const HOSTILE_QUERIES = [
  '',
  '',
  '?page=-1',
  '?page=abc&page=2',
  '?email[]=a&email[b]=c',
  '?email=%22%3E%3Cmeta%3E',
  '?signature=abc',
  '?_method=DELETE',
  '?userID=unknown',
  `?q=${'x'.repeat(6000)}`,
  '?%zz=%zz',
  '?__proto__[admin]=1',
]

const CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'multipart/form-data',
  'text/plain',
  'application/octet-stream',
  'video/mp4',
  'application/offset+octet-stream',
  'a/b;;;=',
  'application/vnd.api+json',
]

const ACCEPTS = ['text/html', 'application/json', '*/*', undefined, 'x/y;q=abc', 'text/html;q=0']

function nested(depth: number) {
  return '['.repeat(depth) + ']'.repeat(depth)
}

/** One body of a random kind, with the content type it claims (which may be wrong on purpose). */
function body(random: ReturnType<typeof seededRandom>): { body: Buffer; contentType?: string } {
  const pick = random.int(16)
  const contentType = random.pick(CONTENT_TYPES)
  switch (pick) {
    case 0:
      return { body: Buffer.alloc(0), contentType }
    case 1:
      return {
        body: Buffer.from(
          JSON.stringify({
            email: 'fuzz@example.com',
            password: 'x'.repeat(random.int(300)),
            name: '"><meta http-equiv="refresh" content="0">',
            model: random.pick(['lipsync', 'restyle', 'unknown', '']),
            status: random.pick(['activated', 'blocked', 'new', 'x']),
            diff: random.pick([1, -1, '1e3', 1e309, null, 'NaN', 9_999_999_999]),
            userID: random.pick(['unknown', 0, null, []]),
            pack: random.pick(['small', 'x', null]),
          })
        ),
        contentType: random.next() < 0.7 ? 'application/json' : contentType,
      }
    case 2:
      return { body: Buffer.from('{"email": "a@b.c", '), contentType: 'application/json' }
    case 3:
      return { body: Buffer.from(random.pick(['[]', '1', '"x"', 'null', 'true'])), contentType }
    case 4:
      return { body: Buffer.from(nested(5000)), contentType: 'application/json' }
    case 5:
      return {
        body: Buffer.from('{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}'),
        contentType: 'application/json',
      }
    case 6:
      return {
        body: Buffer.from('email=a%40b.c&email[]=x&a[b][c]=d&password=&_csrf=forged&name=%00'),
        contentType: 'application/x-www-form-urlencoded',
      }
    case 7:
      return {
        body: Buffer.from(`name=${'x'.repeat(70_000)}`),
        contentType: 'application/x-www-form-urlencoded',
      }
    case 8:
      return { body: random.bytes(random.int(4000) + 1), contentType }
    case 9: {
      const form = multipartBody('fuzz', [
        { name: 'name', content: 'fuzz' },
        {
          name: 'file',
          filename: '../../a.mp4',
          contentType: 'video/mp4',
          content: random.bytes(500),
        },
      ])
      return { body: form.body, contentType: form.contentType }
    }
    case 10: {
      const form = multipartBody('fuzz', [
        { name: 'file', filename: '', content: random.bytes(300) },
      ])
      return {
        body: form.body.subarray(0, random.int(form.body.length)),
        contentType: form.contentType,
      }
    }
    case 11:
      return {
        body: Buffer.from('--fuzz\r\nContent-Disposition: form-data\r\n\r\n'),
        contentType: 'multipart/form-data; boundary=fuzz',
      }
    case 12:
      return { body: Buffer.from('\u00ff\u00fe\u0000\ud800'), contentType: 'text/plain' }
    case 13:
      return { body: gzipSync('{"a":1}'), contentType: 'application/json' }
    case 14:
      return {
        body: Buffer.from(`{"a": "${'\\u0000'.repeat(2000)}"}`),
        contentType: 'application/json',
      }
    default:
      return {
        body: Buffer.from(`email=${encodeURIComponent('a@b.c')}&password=wrong`),
        contentType: 'application/x-www-form-urlencoded',
      }
  }
}

function headers(
  random: ReturnType<typeof seededRandom>,
  identity: FuzzIdentity,
  payload: { body: Buffer; contentType?: string }
) {
  const all: Record<string, string | undefined> = { ...identity.headers }
  if (payload.contentType) all['content-type'] = payload.contentType
  const accept = random.pick(ACCEPTS)
  if (accept) all['accept'] = accept
  if (random.next() < 0.1) all['x-requested-with'] = 'XMLHttpRequest'
  if (payload.body.length || random.next() < 0.5) {
    all['content-length'] = String(payload.body.length)
  }
  if (random.next() < 0.05)
    all['content-encoding'] = random.pick(['gzip', 'br', 'zstd', 'identity'])
  if (random.next() < 0.05) all['x-huge'] = 'h'.repeat(12_000)
  if (random.next() < 0.03) all['cookie'] = `${all.cookie ?? ''}; junk=${'c'.repeat(4000)}`
  if (random.next() < 0.05)
    all['range'] = random.pick(['bytes=0-', 'bytes=-0', 'bytes=9-1', 'bytes=a-b', 'bytes=0-1,2-3'])
  if (random.next() < 0.05)
    all['x-forwarded-for'] = random.pick(['1.2.3.4', 'garbage', '::1, 999.1.1.1'])
  if (random.next() < 0.03)
    all['x-file-name'] = random.pick(['%E0%A4%A', '..%2F..%2Fx', 'a'.repeat(500)])
  if (random.next() < 0.04) {
    all['tus-resumable'] = random.pick(['1.0.0', '0.2', ''])
    all['upload-length'] = random.pick(['1', '-1', 'abc', '99999999999999999999'])
    all['upload-metadata'] = random.pick(['filename ZmlsZQ==', 'kind dmlkZW8=,taskId eA==', '!!!'])
    all['upload-offset'] = random.pick(['0', '-5', 'x'])
  }
  if (random.next() < 0.03) all['host'] = undefined
  return all
}

/**
 * The fuzz cases for `count` requests, the same for the same seed. `fill`
 * gives real values for route parameters (e.g. a task id of the signed-in
 * user) so that requests also get past the lookups.
 */
export function* fuzzCases(options: {
  seed: number
  count: number
  routes: FuzzRoute[]
  identities: FuzzIdentity[]
  fill: Record<string, string[]>
}): Generator<{ request: RawRequest; identity: FuzzIdentity['name']; route: string }> {
  const random = seededRandom(options.seed)
  for (let i = 0; i < options.count; i++) {
    const route = options.routes[i % options.routes.length]
    const method =
      random.next() < 0.7 ? random.pick(route.methods) : random.pick(METHODS as readonly string[])
    const path =
      route.pattern.replace(/:(\w+)\??/g, (_, name: string) => {
        const real = options.fill[name]
        return real && random.next() < 0.6 ? random.pick(real) : random.pick(HOSTILE_SEGMENTS)
      }) + random.pick(HOSTILE_QUERIES)
    const identity = random.pick(options.identities)
    const payload =
      ['GET', 'HEAD', 'OPTIONS'].includes(method) && random.next() < 0.8
        ? { body: Buffer.alloc(0) }
        : body(random)
    yield {
      route: `${method} ${route.pattern}`,
      identity: identity.name,
      request: {
        method,
        path,
        headers: headers(random, identity, payload),
        body: payload.body,
        timeoutMs: 8000,
      },
    }
  }
}
