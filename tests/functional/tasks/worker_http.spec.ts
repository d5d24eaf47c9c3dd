import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { stat } from 'node:fs/promises'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { media } from '#tests/helpers/media'
import { FakeGenerationServer } from '#tests/fakes/generation_server'
import { driveRun, seededTask, waitForRun } from '#tests/functional/tasks/helpers'
import generationConfig from '#config/generation'
import Run from '#models/run'
import taskService from '#services/tasks/task_service'
import mediaStorage from '#integrations/storage/media_storage'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { HttpGenerationProvider } from '#integrations/generation/http'
import { Worker } from '#services/worker/worker'

const finished = (run: Run) => run.status === 'succeeded' || run.status === 'failed'

async function ledgerFor(runId: string) {
  return db.from('ledger_entries').where('reference', 'like', `%:run:${runId}`).orderBy('id')
}

test.group('Worker with the http provider (fake generation API)', (group) => {
  freshState(group)
  let fake: FakeGenerationServer
  let original: { provider: string | undefined; webhookSecret: string }

  group.setup(async () => {
    fake = await new FakeGenerationServer(await media('video.mp4')).start()
    return () => fake.stop()
  })
  group.each.setup(() => {
    fake.reset()
    original = {
      provider: generationConfig.provider,
      webhookSecret: generationConfig.http.webhookSecret,
    }
    /* Runs launched in these tests are for the http provider. */
    ;(generationConfig as any).provider = 'http'
    return () => {
      ;(generationConfig as any).provider = original.provider
      generationConfig.http.webhookSecret = original.webhookSecret
    }
  })

  function makeJob(options: Partial<typeof generationConfig.worker> = {}) {
    const provider = new HttpGenerationProvider({
      baseUrl: fake.url,
      apiKey: fake.apiKey,
      requestTimeoutMs: 2000,
    })
    return new GenerationRunsJob(provider, {
      ...generationConfig.worker,
      pollIntervalMs: 0,
      maxBackoffMs: 0,
      ...options,
    })
  }

  async function launch(balance = 10_000) {
    const user = await createUser({ balance })
    const task = await seededTask(user)
    const run = await taskService.launch(user.id, task.id)
    return { user, task, run }
  }

  test('succeed: submitted once with signed input URLs, output copied into storage, then succeeded', async ({
    client,
    assert,
  }) => {
    fake.fetchInputs = true
    fake.inputBase = `http://${process.env.HOST}:${process.env.PORT}`
    const { user, task, run } = await launch()
    assert.equal(run.cost, 100)
    const job = makeJob()

    const submitted = await driveRun(job, run.id, (r) => !!r.providerJobId, 1)
    assert.equal(submitted.status, 'queued')
    const fakeJob = fake.jobByReference(run.id)!
    assert.equal(submitted.providerJobId, fakeJob.id)
    assert.equal(fakeJob.body.model, 'lipsync')
    assert.deepEqual(
      fake.inputFetches.map((fetch) => fetch.status),
      [200, 200]
    )
    assert.equal(fake.inputFetches[0].bytes, (await stat(await media('video.mp4'))).size)
    assert.isTrue(
      fake.requests.filter((r) => !r.path.startsWith('/outputs')).every((r) => r.authorized)
    )

    const running = await driveRun(job, run.id, (r) => r.status === 'running', 2)
    assert.equal(running.providerStatus, 'processing')
    const done = await driveRun(job, run.id, finished)
    assert.equal(done.status, 'succeeded')
    assert.equal(done.outputSize, (await stat(await media('video.mp4'))).size)
    assert.isTrue(await mediaStorage.exists(done.outputKey!))
    assert.equal(fake.submits, 1)

    const ledger = await ledgerFor(run.id)
    assert.deepEqual(
      ledger.map((row) => [row.action, row.diff]),
      [['used', -100]]
    )
    const events = await db.from('outbox_events').where('table_name', 'generation_launches')
    assert.lengthOf(events, 1)
    const payload = JSON.parse(events[0].payload)
    assert.equal(payload.userid, user.id)
    assert.equal(payload.email, user.email)
    assert.equal(payload.taskid, task.id)
    assert.include(payload.task_properties, {
      run_id: run.id,
      run_number: 1,
      provider: 'http',
      provider_job_id: fakeJob.id,
      model: 'lipsync',
      cost: 100,
      regeneration: false,
    })
    assert.deepEqual(
      payload.task_properties.inputs.map((input: any) => [input.kind, input.type, input.duration]),
      [
        ['video', 'video/mp4', 2],
        ['audio', 'audio/mpeg', 1.5],
      ]
    )

    const download = await signedIn(client.get(`/tasks/${task.id}/runs/${run.id}/download`), user)
    download.assertStatus(200)
    download.assertHeader('content-type', 'video/mp4')

    /* The signed input URLs are only good while the run is active, and only as signed. */
    const expired = await client.get(
      new URL(fake.inputFetches[0].url).pathname + new URL(fake.inputFetches[0].url).search
    )
    expired.assertStatus(404)
    const forged = await client.get(
      `/generation/inputs/${run.id}/video?expires=9999999999&signature=${'0'.repeat(64)}`
    )
    forged.assertStatus(403)
    await assertLedgerInvariant(assert)
  })

  test('fail: the run fails with the reason and is refunded once', async ({ assert }) => {
    fake.mode = 'fail'
    const { user, run } = await launch()
    const job = makeJob()
    const done = await driveRun(job, run.id, finished)
    assert.equal(done.status, 'failed')
    assert.equal(done.errorMessage, 'No face was found in the video.')
    assert.isNotNull(done.refundedAt)
    for (let i = 0; i < 3; i++) await job.tick(new AbortController().signal)
    await job.failAndRefund(done, 'again')
    const ledger = await ledgerFor(run.id)
    assert.deepEqual(
      ledger.map((row) => [row.action, row.diff, row.description]),
      [
        ['used', -100, 'Task "Seeded clip" run #1'],
        ['refund', 100, 'Refund for task "Seeded clip" run #1'],
      ]
    )
    await user.refresh()
    assert.equal(user.balance, 10_000)
    await assertLedgerInvariant(assert)
  })

  test('hang: the run times out, is refunded once and the job is cancelled', async ({ assert }) => {
    fake.mode = 'hang'
    const { user, run } = await launch()
    const job = makeJob()
    const running = await driveRun(job, run.id, (r) => r.status === 'running')
    for (let i = 0; i < 3; i++) await job.tick(new AbortController().signal)
    assert.equal((await Run.findOrFail(run.id)).status, 'running')

    travel(generationConfig.worker.runTimeoutMs + 60_000)
    const done = await driveRun(job, run.id, finished, 1)
    assert.equal(done.status, 'failed')
    assert.equal(done.errorMessage, 'The run took too long and was stopped.')
    assert.deepEqual(fake.cancels, [running.providerJobId])
    await job.tick(new AbortController().signal)
    assert.lengthOf(
      (await ledgerFor(run.id)).filter((row) => row.action === 'refund'),
      1
    )
    await user.refresh()
    assert.equal(user.balance, 10_000)
    await assertLedgerInvariant(assert)
  })

  test('500 on submit: retried after a look-up by reference, never submitted twice', async ({
    assert,
  }) => {
    fake.submitFailures = 1
    const { run } = await launch()
    const job = makeJob()
    await job.tick(new AbortController().signal)
    const retrying = await Run.findOrFail(run.id)
    assert.equal(retrying.status, 'queued')
    assert.isNull(retrying.providerJobId)
    assert.equal(retrying.submitAttempts, 1)

    const done = await driveRun(job, run.id, finished)
    assert.equal(done.status, 'succeeded')
    assert.equal(fake.submits, 2)
    assert.equal(fake.jobs.size, 1)
    const lookups = fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/jobs')
    assert.lengthOf(lookups, 1)
  })

  test('500 on status: backs off and keeps polling until the job answers', async ({ assert }) => {
    fake.mode = 'error500'
    const { run } = await launch()
    const job = makeJob({ pollIntervalMs: 1000, maxBackoffMs: 60_000 })
    await driveRun(job, run.id, (r) => !!r.providerJobId, 1)
    await db.from('runs').where('id', run.id).update({ next_check_at: '2000-01-01 00:00:00' })
    await job.tick(new AbortController().signal)
    const backingOff = await Run.findOrFail(run.id)
    assert.equal(backingOff.status, 'queued')
    assert.equal(backingOff.checkFailures, 1)
    assert.isTrue(backingOff.nextCheckAt > backingOff.updatedAt)

    fake.jobs.get(backingOff.providerJobId!)!.mode = 'succeed'
    travel(120_000)
    const done = await driveRun(makeJob(), run.id, finished)
    assert.equal(done.status, 'succeeded')
    assert.equal(done.checkFailures, 0)
  })

  test('forgotten job: failed and refunded, never resubmitted', async ({ assert }) => {
    fake.mode = 'forget'
    const { run } = await launch()
    const done = await driveRun(makeJob(), run.id, finished)
    assert.equal(done.status, 'failed')
    assert.equal(done.errorMessage, 'The generation service lost this job.')
    assert.equal(fake.submits, 1)
    assert.lengthOf(
      (await ledgerFor(run.id)).filter((row) => row.action === 'refund'),
      1
    )
    await assertLedgerInvariant(assert)
  })

  test('expired output: a fresh URL is tried; if every one is expired the run is refunded', async ({
    assert,
  }) => {
    fake.mode = 'expire_once'
    const first = await launch()
    const ok = await driveRun(makeJob(), first.run.id, finished)
    assert.equal(ok.status, 'succeeded')
    assert.equal(ok.outputAttempts, 1)

    fake.mode = 'expire'
    const second = await launch()
    const done = await driveRun(makeJob(), second.run.id, finished)
    assert.equal(done.status, 'failed')
    assert.equal(
      done.errorMessage,
      'The result could not be retrieved from the generation service.'
    )
    assert.isNull(done.outputKey)
    assert.lengthOf(
      (await ledgerFor(second.run.id)).filter((row) => row.action === 'refund'),
      1
    )
    await assertLedgerInvariant(assert)
  })

  test('webhook: a signed one makes the worker look now; a bad or stale signature changes nothing', async ({
    client,
    assert,
  }) => {
    generationConfig.http.webhookSecret = 'whsec_test_0123456789'
    fake.webhookSecret = 'whsec_test_0123456789'
    fake.inputBase = `http://${process.env.HOST}:${process.env.PORT}`
    fake.mode = 'manual'
    const { run } = await launch()
    const job = makeJob({ pollIntervalMs: 3_600_000 })
    const submitted = await driveRun(job, run.id, (r) => !!r.providerJobId, 1)
    const fakeJob = fake.jobByReference(run.id)!
    assert.match(fakeJob.webhookUrl!, /\/webhooks\/generation$/)
    const later = (await Run.findOrFail(run.id)).nextCheckAt

    assert.equal(await fake.sendWebhook(fakeJob.id, { tamper: true }), 401)
    assert.equal(await fake.sendWebhook(fakeJob.id, { secret: 'wrong' }), 401)
    assert.equal(
      await fake.sendWebhook(fakeJob.id, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
      401
    )
    assert.equal((await Run.findOrFail(run.id)).nextCheckAt.toMillis(), later.toMillis())

    fake.finish(fakeJob.id)
    assert.equal(await fake.sendWebhook(fakeJob.id), 204)
    assert.isBelow((await Run.findOrFail(run.id)).nextCheckAt.toMillis(), later.toMillis())
    const done = await driveRun(job, submitted.id, finished, 3)
    assert.equal(done.status, 'succeeded')

    generationConfig.http.webhookSecret = ''
    const disabled = await client.post('/webhooks/generation').json({ id: fakeJob.id })
    disabled.assertStatus(404)
  })

  test('restart after the job id is stored: the run completes once, charged once', async ({
    assert,
  }) => {
    fake.mode = 'manual'
    const { user, run } = await launch()
    const first = new Worker([makeJob()], 'test-worker-1')
    await first.start()
    const submitted = await waitForRun(run.id, (r) => r.status === 'running')
    await first.stop()

    fake.finish(submitted.providerJobId!)
    const second = new Worker([makeJob()], 'test-worker-2')
    await second.start()
    try {
      const done = await waitForRun(run.id, finished)
      assert.equal(done.status, 'succeeded')
    } finally {
      await second.stop()
    }
    assert.equal(fake.submits, 1)
    assert.deepEqual(
      (await ledgerFor(run.id)).map((row) => row.action),
      ['used']
    )
    assert.lengthOf(await db.from('outbox_events').where('table_name', 'generation_launches'), 1)
    await user.refresh()
    assert.equal(user.balance, 9_900)
  })

  test('restart while the submit is in flight: the job is looked up, not submitted again', async ({
    assert,
  }) => {
    fake.submitDelayMs = 1500
    const { run } = await launch()
    const first = new Worker([makeJob()], 'test-worker-1')
    await first.start()
    await waitForRun(run.id, (r) => r.submitAttempts === 1)
    await waitForRun(run.id, () => fake.jobs.size === 1)
    await first.stop()
    const orphan = await Run.findOrFail(run.id)
    assert.isNull(orphan.providerJobId)

    fake.submitDelayMs = 0
    const second = new Worker([makeJob()], 'test-worker-2')
    await second.start()
    try {
      const done = await waitForRun(run.id, finished)
      assert.equal(done.status, 'succeeded')
      assert.equal(done.providerJobId, [...fake.jobs.keys()][0])
    } finally {
      await second.stop()
    }
    assert.equal(fake.submits, 1)
    assert.deepEqual(
      (await ledgerFor(run.id)).map((row) => row.action),
      ['used']
    )
  })
})
