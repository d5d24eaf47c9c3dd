import { test } from '@japa/runner'
import router from '@adonisjs/core/services/router'
import db from '@adonisjs/lucid/services/db'
import generationConfig from '#config/generation'
import billingService from '#services/billing_service'
import accountMailer from '#services/account_mailer'
import taskService from '#services/tasks/task_service'
import { signedInputUrl } from '#services/tasks/signing'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'
import { listMails } from '#services/dev_mailbox'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { linkFromLatestMail, pathOf } from '#tests/helpers/mailbox'
import { driveRun, seededTask } from '#tests/functional/tasks/helpers'

/*
 * "GET never writes" (LiteFS replicas are read-only): every GET route is
 * served, signed out and signed in, with real data behind its parameters,
 * while the database connection is read-only (PRAGMA query_only). A write
 * would fail the request; every statement is also recorded, so a write
 * whose error a handler swallowed is caught too.
 */

/* The activation link writes on purpose (docs/operations.md, "Scaling out"). */
const WRITING_GETS = new Set(['/activate/:token'])
/* A transaction on a GET is an intent to write (reads need none): flagged too. */
const WRITE_SQL = /^\s*(insert|update|delete|replace|create|drop|alter|begin|savepoint)\b/i

function getRoutes() {
  return Object.values(router.toJSON())
    .flat()
    .filter((route) => route.methods.includes('GET'))
    .map((route) => route.pattern)
}

/**
 * Records every statement SQLite is asked to prepare on the app's
 * connection (transactions included), whether it then succeeds or not.
 */
async function recordStatements() {
  const knex = db.connection().getWriteClient()
  const connection = await knex.client.acquireConnection()
  knex.client.releaseConnection(connection)
  const statements: string[] = []
  const prepare = connection.prepare
  connection.prepare = function (sql: string, ...rest: unknown[]) {
    statements.push(sql)
    return prepare.call(this, sql, ...rest)
  }
  return { statements, stop: () => (connection.prepare = prepare) }
}

test.group('GET never writes the database', (group) => {
  freshState(group)
  group.each.teardown(async () => {
    await db.rawQuery('PRAGMA query_only = OFF')
  })

  test('every GET route answers on a read-only database connection', async ({ client, assert }) => {
    /* Real data for every parameter: a finished run, an order, a reset link, a mail. */
    const user = await createUser({ balance: 5_000 })
    const task = await seededTask(user, 'lipsync')
    const launched = await taskService.launch(user.id, task.id)
    const job = new GenerationRunsJob(new LocalFfmpegProvider(), {
      ...generationConfig.worker,
      pollIntervalMs: 0,
    })
    const run = await driveRun(job, launched.id, (r) => r.status === 'succeeded', 200)
    const { order } = await billingService.createOrder(user, 'small', { ip: '127.0.0.1' })
    await accountMailer.queueResetRequest(user.email)
    const resetPath = pathOf(await linkFromLatestMail(user.email, '/reset-password/'))
    const [mail] = await listMails(1)
    const signedInput = pathOf(signedInputUrl(run.id, 'video', 600))

    const known: Record<string, string> = {
      '/reset-password/:token': resetPath,
      '/tokens/orders/:id': `/tokens/orders/${order.id}`,
      '/tokens/orders/:id/status': `/tokens/orders/${order.id}/status`,
      '/dev/checkout/:id': `/dev/checkout/${order.id}`,
      '/tasks/:id': `/tasks/${task.id}`,
      '/tasks/:id/status': `/tasks/${task.id}/status`,
      '/tasks/:id/inputs/:kind': `/tasks/${task.id}/inputs/video`,
      '/tasks/:id/runs/:runId/download': `/tasks/${task.id}/runs/${run.id}/download`,
      '/generation/inputs/:runId/:kind': signedInput,
      '/dev/mailbox/:id': `/dev/mailbox/${mail.id}`,
    }
    /* Routes added later still get served, with the likeliest ids. */
    const byName: Record<string, string> = {
      id: task.id,
      runId: run.id,
      kind: 'video',
      token: resetPath.split('/').pop()!,
    }
    const urlFor = (pattern: string) =>
      known[pattern] ??
      pattern.replace(/:(\w+)\??/g, (_, name: string) => byName[name] ?? 'unknown')

    /* The guard itself: the connection really refuses writes now. */
    await db.rawQuery('PRAGMA query_only = ON')
    await assert.rejects(
      () => db.from('users').where('id', user.id).update({ balance: 1 }),
      /readonly/
    )

    const routes = getRoutes().filter((pattern) => !WRITING_GETS.has(pattern))
    assert.includeMembers(routes, ['/tasks/:id', '/tokens', '/usage', '/health/ready'])
    const failures: string[] = []
    const recorder = await recordStatements()
    try {
      for (const pattern of routes) {
        for (const as of ['signed out', 'signed in'] as const) {
          const url = urlFor(pattern)
          const request = client.get(url).header('accept', 'text/html').redirects(0)
          const response = await (as === 'signed in' ? signedIn(request, user) : request)
          const writes = recorder.statements.splice(0).filter((sql) => WRITE_SQL.test(sql))
          if (response.status() >= 500 || writes.length) {
            failures.push(`${as} GET ${url} → ${response.status()} ${writes.join('; ')}`)
          }
        }
      }
    } finally {
      recorder.stop()
    }
    assert.deepEqual(failures, [])
    assert.isAtLeast(routes.length, 20)
  }).timeout(120_000)
})
