import { test } from '@japa/runner'
import Database from 'better-sqlite3'
import { freshState } from '#tests/helpers/db'
import { pathOf, waitForMailLink } from '#tests/helpers/mailbox'
import {
  cloneDatabase,
  freePort,
  spawnAce,
  startServer,
  WebClient,
} from '#tests/helpers/app_process'

/*
 * Logs are read from a real server process's stdout: what an operator's log
 * collector would receive.
 */
test.group('Structured logs', (group) => {
  freshState(group)

  test('sign-up, activation, login and a password reset log no password, token or email', async ({
    assert,
  }) => {
    const options = {
      port: await freePort(),
      databasePath: await cloneDatabase('logs'),
      env: { LOG_LEVEL: 'trace', MAIL_MAILER: 'dev', WORKER_POLL_MS: '100' },
    }
    const server = await startServer(options)
    /* Mails are sent by the worker: its log lines are checked too. */
    const worker = spawnAce(['worker'], options)
    const web = new WebClient(server)
    const email = `Log.Probe.${Date.now()}@Example.com`
    const address = email.toLowerCase()
    const passwords = ['First-secret 1', 'Typo-secret 2', 'Wrong-secret 3', 'New-secret 4']
    let activation = ''
    let reset = ''
    try {
      const signup = await web.submit('/signup', '/signup', {
        email,
        password: passwords[0],
        passwordConfirmation: passwords[0],
      })
      assert.equal(signup.status, 302)
      /* A refused form too: the exception handler must not log the input. */
      await web.submit('/signup', '/signup', {
        email,
        password: passwords[1],
        passwordConfirmation: 'something else',
      })

      activation = await waitForMailLink(address, '/activate/')
      assert.equal((await web.get(pathOf(activation))).status, 302)

      const wrong = await web.submit('/login', '/login', { email, password: passwords[2] })
      assert.equal(wrong.status, 302)

      await web.submit('/forgot-password', '/forgot-password', { email })
      reset = await waitForMailLink(address, '/reset-password/')
      const changed = await web.submit(pathOf(reset), pathOf(reset), {
        password: passwords[3],
        passwordConfirmation: passwords[3],
      })
      assert.equal(changed.status, 302)

      const login = await web.submit('/login', '/login', { email, password: passwords[3] })
      assert.equal(login.status, 302)
      assert.equal(login.headers.get('location'), '/tasks')
    } finally {
      assert.equal((await server.stop()).code, 0)
      assert.equal((await worker.stop()).code, 0)
    }

    const output = [...server.lines, ...worker.lines].join('\n').toLowerCase()
    const tokens = [activation, reset].map((link) => new URL(link).pathname.split('/').pop()!)
    for (const secret of [address, 'log.probe', ...passwords, ...tokens]) {
      assert.notInclude(output, secret.toLowerCase())
    }

    const json = server.jsonLines()
    /* The Vite dev server (test only; production serves built assets) prints its own lines. */
    const ours = server.lines.filter((line) => !/vite|websocket/i.test(line))
    assert.equal(json.length, ours.length, 'every log line is JSON')
    const requests = json.filter((line) => line.msg === 'request completed')
    assert.isAtLeast(requests.length, 14)
    for (const line of requests) assert.match(line.request_id, /^[\w-]{36}$/)
    assert.includeDeepMembers(
      requests.map((line) => [line.method, line.route, line.status]),
      [
        ['POST', '/signup', 302],
        ['GET', '/activate/:token', 302],
        ['POST', '/reset-password/:token', 302],
      ]
    )
  }).timeout(60_000)

  test('an error page quotes the request id found on every log line of that request', async ({
    assert,
  }) => {
    const databasePath = await cloneDatabase('errors')
    const server = await startServer({ port: await freePort(), databasePath })
    const web = new WebClient(server)
    let reference = ''
    let readyId = ''
    try {
      /* Break the database under the running app. */
      const sqlite = new Database(databasePath)
      sqlite.exec('DROP TABLE adonis_schema; DROP TABLE users; DROP TABLE mail_outbox')
      sqlite.close()

      const response = await web.submit('/forgot-password', '/forgot-password', {
        email: 'someone.secret@example.com',
      })
      assert.equal(response.status, 500)
      const page = await response.text()
      assert.include(page, 'Something went wrong')
      assert.notInclude(page, 'no such table')
      reference = page.match(/reference <code>([^<]+)<\/code>/)?.[1] ?? ''
      assert.equal(reference, response.headers.get('x-request-id'))

      const ready = await web.get('/health/ready')
      assert.equal(ready.status, 503)
      readyId = ready.headers.get('x-request-id')!
    } finally {
      await server.stop()
    }

    const json = server.jsonLines()
    const errorLines = json.filter((line) => line.level >= 50 && line.request_id === reference)
    assert.isAtLeast(errorLines.length, 1)
    assert.include(errorLines[0].err.message, 'no such table: mail_outbox')
    /* The failing query's bindings held the email: only its domain is left. */
    assert.notInclude(server.lines.join('\n'), 'someone.secret')

    /* A service logging through the global logger still gets the request id. */
    const checkLine = json.find((line) => line.msg === 'readiness: migrations check failed')
    assert.equal(checkLine?.request_id, readyId)
  }).timeout(60_000)
})
