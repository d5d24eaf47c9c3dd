import { test } from '@japa/runner'
import env from '#start/env'
import { startFakeSmtp } from '#tests/fakes/smtp_server'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import {
  cloneDatabase,
  freePort,
  spawnAce,
  startServer,
  WebClient,
  type AppProcess,
} from '#tests/helpers/app_process'

const PASSWORD = 'correct horse battery'
/* The reported setup: a mail server that takes 400 ms per message. */
const SMTP_DELAY_MS = 400

/**
 * One form post as a browser makes it; `ms` is how long the answer took.
 * The CSRF token is fetched first and not counted.
 */
async function timedPost(server: AppProcess, path: string, fields: Record<string, string>) {
  const web = new WebClient(server)
  const csrf = await web.csrfToken(path)
  const started = performance.now()
  const response = await web.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, _csrf: csrf }).toString(),
  })
  await response.arrayBuffer()
  return { status: response.status, ms: performance.now() - started, at: Date.now() }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]

/*
 * The enumeration oracle of the report: the mail used to be sent inside the
 * request, so a known address answered after the SMTP round trip. Now every
 * account mail is queued and sent by the worker. A real server, a real
 * worker process and a slow real SMTP server.
 */
test.group('Account mails never delay the answer (slow SMTP server)', (group) => {
  freshState(group)

  test('known and unknown emails get their answer before the SMTP server sees any mail', async ({
    assert,
  }) => {
    const smtpPort = await freePort()
    const smtp = await startFakeSmtp({
      port: smtpPort,
      username: env.get('SMTP_USERNAME')!,
      password: env.get('SMTP_PASSWORD')!,
      delayMs: SMTP_DELAY_MS,
    })
    await createUser({ email: 'known@example.com', password: PASSWORD })
    await createUser({ email: 'unverified@example.com', password: PASSWORD, status: 'new' })
    const options = {
      port: await freePort(),
      databasePath: await cloneDatabase('mail-timing'),
      env: { MAIL_MAILER: 'smtp', SMTP_PORT: String(smtpPort), WORKER_POLL_MS: '100' },
    }
    const server = await startServer(options)
    let worker: AppProcess | undefined
    try {
      /* 1. No worker running: every answer comes back, and nothing has reached SMTP. */
      const answers = [
        await timedPost(server, '/forgot-password', { email: 'known@example.com' }),
        await timedPost(server, '/forgot-password', { email: 'nobody@example.com' }),
        await timedPost(server, '/signup', {
          email: 'fresh@example.com',
          password: PASSWORD,
          passwordConfirmation: PASSWORD,
        }),
        await timedPost(server, '/signup', {
          email: 'known@example.com',
          password: PASSWORD,
          passwordConfirmation: PASSWORD,
        }),
        await timedPost(server, '/login', { email: 'unverified@example.com', password: PASSWORD }),
      ]
      for (const answer of answers) assert.equal(answer.status, 302)
      console.log(
        `answers (forgot known, forgot unknown, signup new, signup taken, login unverified): ` +
          answers.map((answer) => `${answer.ms.toFixed(1)} ms`).join(', ')
      )
      assert.lengthOf(smtp.received, 0, 'no mail was sent inside a request')

      /* 2. The worker sends what the requests queued: 4 mails (none to the unknown address). */
      worker = spawnAce(['worker'], options)
      const deadline = Date.now() + 30_000
      while (smtp.received.length < 4 && Date.now() < deadline) await sleep(100)
      assert.sameMembers(
        smtp.received.map((mail) => `${(mail.to as { text: string }).text}: ${mail.subject}`),
        [
          'known@example.com: Reset your vgen password',
          'fresh@example.com: Activate your vgen account',
          'known@example.com: You already have a vgen account',
          'unverified@example.com: Activate your vgen account',
        ]
      )
      for (const answer of answers) assert.isBelow(answer.at, Math.min(...smtp.receivedAt))

      /* 3. Known vs unknown with the worker sending (400 ms per mail) meanwhile: measured, printed. */
      const known: number[] = []
      const unknown: number[] = []
      for (let round = 0; round < 5; round++) {
        known.push((await timedPost(server, '/forgot-password', { email: 'known@example.com' })).ms)
        unknown.push(
          (await timedPost(server, '/forgot-password', { email: `nobody${round}@example.com` })).ms
        )
      }
      console.log(
        `forgot-password with a ${SMTP_DELAY_MS} ms SMTP server: known median ${median(known).toFixed(1)} ms ` +
          `[${known.map((ms) => ms.toFixed(1)).join(', ')}], unknown median ${median(unknown).toFixed(1)} ms ` +
          `[${unknown.map((ms) => ms.toFixed(1)).join(', ')}]`
      )
      /* Over the per-address limit (5 account mails an hour) the rest is not even queued. */
      assert.equal(await outboxRowsTo(options.databasePath, 'known@example.com'), 5)
      /* A clean stop (exit 0): SIGTERM lets the last send finish before the database closes. */
      assert.equal((await worker.stop()).code, 0)
    } finally {
      await worker?.stop()
      await server.stop()
      await smtp.close()
    }
  }).timeout(90_000)
})

async function sleep(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Outbox rows to an address in the server's own database file. */
async function outboxRowsTo(path: string, address: string) {
  const { default: Database } = await import('better-sqlite3')
  const sqlite = new Database(path, { readonly: true })
  try {
    const row = sqlite
      .prepare('SELECT COUNT(*) AS n FROM mail_outbox WHERE to_address = ?')
      .get(address) as { n: number }
    return row.n
  } finally {
    sqlite.close()
  }
}
