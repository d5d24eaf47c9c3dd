import { test } from '@japa/runner'
import { request as httpRequest } from 'node:http'
import Database from 'better-sqlite3'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { cloneDatabase, freePort, startServer } from '#tests/helpers/app_process'

const PASSWORD = 'correct horse battery'

/**
 * A browser-like client bound to one local address, so the server sees
 * the peer 127.0.0.1 (our "proxy") or 127.0.0.2 (anyone else).
 */
class PeerClient {
  private cookies = new Map<string, string>()

  constructor(
    private port: number,
    private localAddress: string
  ) {}

  send(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          localAddress: this.localAddress,
          method,
          path,
          headers: { ...headers, ...(cookie ? { cookie } : {}) },
        },
        (res) => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';')
            const index = pair.indexOf('=')
            this.cookies.set(pair.slice(0, index), pair.slice(index + 1))
          }
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => (text += chunk))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        }
      )
      req.on('error', reject)
      req.end(body)
    })
  }

  async login(email: string, headers: Record<string, string>) {
    const form = await this.send('GET', '/login')
    const csrf = form.body.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)?.[1]
    if (!csrf) throw new Error('no CSRF token on /login')
    return this.send(
      'POST',
      '/login',
      { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ email, password: PASSWORD, _csrf: csrf }).toString()
    )
  }
}

test.group('DWH events: client IP behind trusted proxies', (group) => {
  freshState(group)

  test('X-Forwarded-For counts only from TRUSTED_PROXIES; the IP gets its country', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const port = await freePort()
    const databasePath = await cloneDatabase('dwh-client-ip')
    const server = await startServer({
      port,
      databasePath,
      env: { TRUSTED_PROXIES: '127.0.0.1', TRUST_CDN_GEO_HEADERS: 'false' },
    })
    try {
      /* Each login from a fresh client (a signed-in one is sent away from /login). */
      const viaProxy = () => new PeerClient(port, '127.0.0.1')
      const direct = () => new PeerClient(port, '127.0.0.2')

      assert.equal(
        (await viaProxy().login(user.email, { 'x-forwarded-for': '8.8.8.8' })).status,
        302
      )
      // A client that forges the header in front of the proxy's own entry gains nothing.
      assert.equal(
        (await viaProxy().login(user.email, { 'x-forwarded-for': '8.8.8.8, 193.0.6.139' })).status,
        302
      )
      // Not a trusted proxy: its X-Forwarded-For is ignored.
      assert.equal((await direct().login(user.email, { 'x-forwarded-for': '8.8.8.8' })).status, 302)
    } finally {
      await server.stop()
    }

    const childDb = new Database(databasePath, { readonly: true })
    const rows = childDb
      .prepare(`SELECT payload FROM outbox_events WHERE table_name = 'user_sessions' ORDER BY id`)
      .all() as { payload: string }[]
    childDb.close()
    assert.deepEqual(
      rows.map((row) => {
        const { ip, geo, action, userid } = JSON.parse(row.payload)
        return { ip, geo, action, userid }
      }),
      [
        { ip: '8.8.8.8', geo: { country: 'US' }, action: 'login', userid: user.id },
        { ip: '193.0.6.139', geo: { country: 'NL' }, action: 'login', userid: user.id },
        { ip: '127.0.0.2', geo: {}, action: 'login', userid: user.id },
      ]
    )
  }).timeout(60_000)
})
