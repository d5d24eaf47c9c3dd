import { test } from '@japa/runner'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import db from '@adonisjs/lucid/services/db'
import { databasePath } from '#config/database'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import {
  freePort,
  spawnAce,
  startServer,
  WebClient,
  type AppProcess,
} from '#tests/helpers/app_process'
import { seededTask, waitForRun } from '#tests/functional/tasks/helpers'
import type Run from '#models/run'

const finished = (run: Run) => run.status === 'succeeded' || run.status === 'failed'

const PASSWORD = 'correct horse battery'

/** Starts a multipart upload and sends only the first `sentBytes` of the body. */
function startUpload(
  server: AppProcess,
  path: string,
  headers: Record<string, string>,
  file: Buffer
) {
  const boundary = `----ops${Date.now()}`
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="video.mp4"\r\n` +
        `Content-Type: video/mp4\r\n\r\n`
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  const request = httpRequest(server.url(path), {
    method: 'POST',
    agent: false,
    headers: {
      ...headers,
      'accept': 'application/json',
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(body.length),
    },
  })
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.once('response', (res: IncomingMessage) => {
      let text = ''
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    request.once('error', reject)
  })
  const half = Math.floor(body.length / 2)
  request.write(body.subarray(0, half))
  return {
    response,
    finish: () => request.end(body.subarray(half)),
  }
}

async function signedInClient(server: AppProcess, email: string) {
  const web = new WebClient(server)
  const login = await web.submit('/login', '/login', { email, password: PASSWORD })
  if (login.headers.get('location') !== '/tasks') throw new Error('login failed')
  return web
}

test.group('Graceful shutdown (SIGTERM)', (group) => {
  freshState(group)

  test('an upload in flight completes; new connections are refused; exit code 0', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Shutdown', model: 'lipsync' })
    const server = await startServer({ port: await freePort(), databasePath })
    try {
      const web = await signedInClient(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      const upload = startUpload(
        server,
        `/tasks/${task.id}/inputs/video`,
        { 'cookie': web.cookieHeader(), 'x-csrf-token': csrf },
        await readFile(await media('video.mp4'))
      )
      await sleep(300)

      server.child.kill('SIGTERM')
      await sleep(500)
      await assert.rejects(() => fetch(server.url('/health')), 'fetch failed')
      assert.isNull(server.child.exitCode, 'still running while the upload is in flight')

      upload.finish()
      const { status, body } = await upload.response
      assert.equal(status, 201, body)
      const { code } = await server.exited
      assert.equal(code, 0)
    } finally {
      await server.stop('SIGKILL')
    }
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.kind, 'video')
  }).timeout(60_000)

  test('a request that never finishes cannot hold the process past the deadline', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Stuck', model: 'lipsync' })
    const server = await startServer({
      port: await freePort(),
      databasePath,
      env: { SHUTDOWN_TIMEOUT_SECONDS: '2' },
    })
    try {
      const web = await signedInClient(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      const upload = startUpload(
        server,
        `/tasks/${task.id}/inputs/video`,
        { 'cookie': web.cookieHeader(), 'x-csrf-token': csrf },
        await readFile(await media('video.mp4'))
      )
      upload.response.catch(() => {})
      await sleep(300)
      const started = Date.now()
      server.child.kill('SIGTERM')
      const { code } = await server.exited
      const seconds = (Date.now() - started) / 1000
      assert.equal(code, 1)
      assert.isAtLeast(seconds, 1.9)
      assert.isBelow(seconds, 6)
      assert.include(server.lines.join('\n'), 'shutdown did not finish in 2 s')
    } finally {
      await server.stop('SIGKILL')
    }
    /* The half-received upload left nothing behind in the database. */
    assert.equal(Number((await db.from('task_inputs').count('* as n'))[0].n), 0)
  }).timeout(60_000)
})

test.group('Graceful shutdown of the worker (SIGTERM during a run)', (group) => {
  freshState(group)

  test('the run resumes in the next worker and is charged once, refunded at most once', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync')
    const launched = await taskService.launch(user.id, task.id)
    const workerEnv = (pollMs: number) => ({
      port: 3399,
      databasePath,
      env: { WORKER_POLL_MS: String(pollMs) },
    })

    /* A slow status poll keeps the submitted run active for seconds: SIGTERM lands mid-run. */
    const first = spawnAce(['worker'], workerEnv(5_000))
    try {
      /* Submitted: ffmpeg is rendering under the first worker. */
      const rendering = await waitForRun(launched.id, (run) => run.providerJobId !== null, 30_000)
      assert.oneOf(rendering.status, ['queued', 'running'])
      first.child.kill('SIGTERM')
      const { code } = await first.exited
      assert.equal(code, 0, first.lines.join('\n'))
    } finally {
      await first.stop('SIGKILL')
    }
    assert.include(first.lines.join('\n'), 'worker stopped')
    /* The lease was released: the next worker need not wait for it to expire. */
    assert.lengthOf(await db.from('worker_leases'), 0)

    const second = spawnAce(['worker'], workerEnv(50))
    let done: Run
    try {
      done = await waitForRun(launched.id, finished, 60_000)
    } finally {
      await second.stop('SIGTERM')
    }

    const entries = await db
      .from('ledger_entries')
      .where('user_id', user.id)
      .where('status', 'applied')
    const charges = entries.filter((entry) => entry.reference === `used:run:${launched.id}`)
    const refunds = entries.filter((entry) => entry.reference === `refund:run:${launched.id}`)
    assert.lengthOf(charges, 1)
    assert.lengthOf(refunds, done.status === 'failed' ? 1 : 0)
    assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
    await user.refresh()
    assert.equal(user.balance, 1000 - launched.cost)
    await assertLedgerInvariant(assert)
    const launches = await db.from('outbox_events').where('table_name', 'generation_launches')
    assert.lengthOf(launches, 1, 'one analytics launch row, not lost, not doubled')
  }).timeout(120_000)
})
