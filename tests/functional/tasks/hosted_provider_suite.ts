import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { setTimeout as sleep } from 'node:timers/promises'
import { stat } from 'node:fs/promises'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { media } from '#tests/helpers/media'
import { driveRun, seededTask } from '#tests/functional/tasks/helpers'
import type { FakeJob, HostedProviderFake, Outcome } from '#tests/fakes/hosted_provider_fake'
import generationConfig from '#config/generation'
import Run from '#models/run'
import taskService from '#services/tasks/task_service'
import mediaStorage from '#integrations/storage/media_storage'
import {
  FAILURE_LOST,
  FAILURE_OUTPUT,
  FAILURE_TIMEOUT,
  GenerationRunsJob,
} from '#jobs/generation_runs_job'
import { providerNamed } from '#services/tasks/provider_routing'

/*
 * The contract every hosted-provider adapter is held to, run against that
 * provider's fake server over real HTTP (tests/fakes/). Each spec file
 * passes its provider's specifics: how to point the config at the fake,
 * the failure words and the sentence the customer gets for each.
 */

export type HostedSuite<F extends HostedProviderFake> = {
  name: 'sync' | 'replicate' | 'fal'
  title: string
  makeFake: (outputFile: string) => F
  /** Points generationConfig at the fake; returns the undo. */
  configure: (fake: F) => () => void
  /** The provider model id a Standard lip-sync run is submitted with, as the fake saw it. */
  submittedModel: (job: FakeJob) => string
  expectedModel: string
  failures: { outcome: Outcome; message: string; raw: RegExp }[]
  /** Whether the provider has a cancel endpoint. */
  cancels: boolean
  /** Provider-side jobs after a submit whose answer was lost (1 = no duplicate). */
  jobsAfterLostAnswer: number
  /** Forged deliveries (each must be refused with a 401). */
  forgeries: (fake: F, jobId: string) => Promise<number>[]
  /** A delivery with a valid signature and a stale timestamp. */
  stale: (fake: F, jobId: string) => Promise<number>
}

const finished = (run: Run) => run.status === 'succeeded' || run.status === 'failed'

async function ledgerFor(runId: string) {
  return db.from('ledger_entries').where('reference', 'like', `%:run:${runId}`).orderBy('id')
}

export function hostedProviderSuite<F extends HostedProviderFake>(suite: HostedSuite<F>) {
  test.group(`Worker with ${suite.title} (fake server)`, (group) => {
    freshState(group)
    let fake: F
    let output: string

    group.setup(async () => {
      output = await media('video.mp4')
      fake = suite.makeFake(output)
      await fake.start()
      return () => fake.stop()
    })
    group.each.setup(() => {
      fake.reset()
      fake.appBase = `http://${process.env.HOST}:${process.env.PORT}`
      const forced = generationConfig.provider
      generationConfig.provider = suite.name
      const undo = suite.configure(fake)
      return () => {
        generationConfig.provider = forced
        undo()
      }
    })

    function makeJob(options: Partial<typeof generationConfig.worker> = {}) {
      return new GenerationRunsJob(providerNamed(suite.name), {
        ...generationConfig.worker,
        pollIntervalMs: 0,
        maxBackoffMs: 0,
        maxOutputAttempts: 3,
        webhookFallbackPollMs: 0,
        tickWaitMs: 60_000,
        ...options,
      })
    }

    async function launch(balance = 10_000) {
      const user = await createUser({ balance })
      const task = await seededTask(user)
      const run = await taskService.launch(user.id, task.id)
      return { user, task, run }
    }

    async function assertChargedOnce(assert: any, runId: string, refunded: boolean) {
      const ledger = await ledgerFor(runId)
      assert.deepEqual(
        ledger.map((row) => row.action),
        refunded ? ['used', 'refund'] : ['used']
      )
      await assertLedgerInvariant(assert)
    }

    test('success: the provider fetches our signed inputs, the output is copied, charged once', async ({
      assert,
    }) => {
      fake.fetchInputs = true
      const { run } = await launch()
      assert.equal(run.provider, suite.name)
      const done = await driveRun(makeJob(), run.id, finished)
      assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
      assert.equal(fake.submits, 1)
      const job = [...fake.jobs.values()][0]
      assert.equal(done.providerJobId, job.id)
      assert.equal(suite.submittedModel(job), suite.expectedModel)
      assert.deepEqual(
        fake.inputFetches.map((fetched) => fetched.status),
        [200, 200]
      )
      assert.equal(done.outputSize, (await stat(output)).size)
      assert.isTrue(await mediaStorage.exists(done.outputKey!))
      assert.isTrue(
        fake.requests.filter((r) => !r.path.startsWith('/files/')).every((r) => r.authorized)
      )
      await assertChargedOnce(assert, run.id, false)
    })

    for (const failure of suite.failures) {
      test(`failure "${failure.outcome}": our sentence for the customer, the raw error kept, refunded once`, async ({
        assert,
      }) => {
        fake.outcome = failure.outcome
        const { user, run } = await launch()
        const job = makeJob()
        const done = await driveRun(job, run.id, finished)
        assert.equal(done.status, 'failed')
        assert.equal(done.errorMessage, failure.message)
        assert.match(done.providerError ?? '', failure.raw)
        assert.isNotNull(done.refundedAt)
        for (let i = 0; i < 2; i++) await job.tick(new AbortController().signal)
        await job.failAndRefund(done, 'again')
        await assertChargedOnce(assert, run.id, true)
        await user.refresh()
        assert.equal(user.balance, 10_000)
      })
    }

    test('an unknown status keeps the run running (its deadline still ends it)', async ({
      assert,
    }) => {
      fake.outcome = 'unknown'
      const { run } = await launch()
      const job = makeJob()
      await driveRun(job, run.id, (r) => !!r.providerJobId)
      for (let i = 0; i < 4; i++) await job.tick(new AbortController().signal)
      const running = await Run.findOrFail(run.id)
      assert.equal(running.status, 'running')
      travel(generationConfig.worker.runTimeoutMs + 60_000)
      const done = await driveRun(job, run.id, finished, 2)
      assert.equal(done.errorMessage, FAILURE_TIMEOUT)
      await assertChargedOnce(assert, run.id, true)
    })

    test('429 with Retry-After on submit: no call before the time it gave, then one job', async ({
      assert,
    }) => {
      fake.fail('submit', '429', 1, '1')
      const { run } = await launch()
      const job = makeJob()
      await job.tick(new AbortController().signal)
      const waiting = await Run.findOrFail(run.id)
      assert.isNull(waiting.providerJobId)
      assert.isAtLeast(waiting.nextCheckAt.toMillis() - Date.now(), 0)
      await job.tick(new AbortController().signal)
      assert.equal(fake.submits, 1, 'nothing sent during the Retry-After')
      await sleep(1100)
      const done = await driveRun(job, run.id, finished)
      assert.equal(done.status, 'succeeded')
      assert.equal(fake.jobs.size, 1)
      await assertChargedOnce(assert, run.id, false)
    })

    test('submit answered by 500, 503, a timeout, garbage, an HTML page, a huge or an empty body: retried, nothing crashes, one charge', async ({
      assert,
    }) => {
      for (const type of ['500', '503', 'timeout', 'garbage', 'html', 'huge', 'empty'] as const)
        fake.fail('submit', type)
      const { run } = await launch()
      const done = await driveRun(makeJob(), run.id, finished)
      assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
      assert.equal(fake.jobs.size, 1)
      assert.isAtLeast(done.submitAttempts, 8)
      await assertChargedOnce(assert, run.id, false)
    })

    test('status answered by 500, 503, 429, a timeout, garbage, HTML or a huge body: polled again until done', async ({
      assert,
    }) => {
      const { run } = await launch()
      const job = makeJob()
      await driveRun(job, run.id, (r) => !!r.providerJobId, 1)
      for (const type of ['500', '503', 'timeout', 'garbage', 'html', 'huge'] as const)
        fake.fail('status', type)
      fake.fail('status', '429', 1, '0')
      const done = await driveRun(job, run.id, finished)
      assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
      assert.equal(fake.submits, 1)
      await assertChargedOnce(assert, run.id, false)
    })

    test('a submit whose answer is lost: retried without charging the customer twice', async ({
      assert,
    }) => {
      fake.fail('submit', 'late')
      const { run } = await launch()
      const done = await driveRun(makeJob(), run.id, finished)
      assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
      assert.equal(fake.jobs.size, suite.jobsAfterLostAnswer)
      await assertChargedOnce(assert, run.id, false)
    })

    test('a job the provider forgot: failed and refunded once, never submitted again', async ({
      assert,
    }) => {
      fake.outcome = 'forget'
      const { run } = await launch()
      const done = await driveRun(makeJob(), run.id, finished)
      assert.equal(done.status, 'failed')
      assert.equal(done.errorMessage, FAILURE_LOST)
      assert.equal(fake.submits, 1)
      await assertChargedOnce(assert, run.id, true)
    })

    test('an expired output URL: tried again; if it stays gone the run is refunded once', async ({
      assert,
    }) => {
      fake.outcome = 'expire_once'
      const first = await launch()
      const ok = await driveRun(makeJob(), first.run.id, finished)
      assert.equal(ok.status, 'succeeded')
      assert.equal(ok.outputAttempts, 1)

      fake.outcome = 'expire'
      const second = await launch()
      const done = await driveRun(makeJob(), second.run.id, finished)
      assert.equal(done.status, 'failed')
      assert.equal(done.errorMessage, FAILURE_OUTPUT)
      assert.isNull(done.outputKey)
      await assertChargedOnce(assert, second.run.id, true)
    })

    test('a run that times out is refunded once and its provider job cancelled', async ({
      assert,
    }) => {
      fake.outcome = 'hang'
      const { run } = await launch()
      const job = makeJob()
      const running = await driveRun(job, run.id, (r) => r.status === 'running')
      travel(generationConfig.worker.runTimeoutMs + 60_000)
      const done = await driveRun(job, run.id, finished, 1)
      assert.equal(done.errorMessage, FAILURE_TIMEOUT)
      assert.deepEqual(fake.cancels, suite.cancels ? [running.providerJobId] : [])
      await job.tick(new AbortController().signal)
      await assertChargedOnce(assert, run.id, true)
    })

    test('webhooks: valid and duplicated ones make the worker look now; forged and stale ones are refused and change nothing', async ({
      assert,
    }) => {
      fake.outcome = 'manual'
      const { run } = await launch()
      const job = makeJob({ pollIntervalMs: 3_600_000 })
      const submitted = await driveRun(job, run.id, (r) => !!r.providerJobId, 1)
      const fakeJob = fake.jobs.get(submitted.providerJobId!)!
      assert.include(fakeJob.webhookUrl ?? '', `/webhooks/generation/${suite.name}?run=${run.id}`)
      const later = (await Run.findOrFail(run.id)).nextCheckAt.toMillis()

      for (const status of await Promise.all(suite.forgeries(fake, fakeJob.id)))
        assert.equal(status, 401)
      assert.equal(await suite.stale(fake, fakeJob.id), 401)
      assert.equal((await Run.findOrFail(run.id)).nextCheckAt.toMillis(), later)

      fake.finish(fakeJob.id)
      assert.equal(await fake.sendWebhook(fakeJob.id), 204)
      assert.equal(await fake.sendWebhook(fakeJob.id), 204)
      assert.isBelow((await Run.findOrFail(run.id)).nextCheckAt.toMillis(), later)
      const done = await driveRun(job, run.id, finished, 2)
      assert.equal(done.status, 'succeeded')
      /* A late duplicate after success changes nothing. */
      assert.equal(await fake.sendWebhook(fakeJob.id), 204)
      await job.tick(new AbortController().signal)
      assert.equal((await Run.findOrFail(run.id)).status, 'succeeded')
      await assertChargedOnce(assert, run.id, false)
    })

    test('webhooks with a valid signature but no job in the body are a 400; huge bodies a 413', async ({
      assert,
      client,
    }) => {
      fake.outcome = 'manual'
      const { run } = await launch()
      const submitted = await driveRun(makeJob(), run.id, (r) => !!r.providerJobId, 1)
      assert.equal(
        await fake.sendWebhook(submitted.providerJobId!, { body: '"just a string"' }),
        400
      )
      const huge = await client
        .post(`/webhooks/generation/${suite.name}`)
        .header('content-type', 'application/json')
        .json({ id: 'x', padding: 'x'.repeat(400 * 1024) })
      assert.include([413, 401], huge.status())
      const html = await client
        .post(`/webhooks/generation/${suite.name}`)
        .header('content-type', 'text/html')
        .json({ id: 'x' })
      assert.include([401, 415], html.status())
      assert.equal((await Run.findOrFail(run.id)).status, 'queued')
    })

    test('a webhook that arrives before the submit answer: the run is checked as soon as the answer is stored', async ({
      assert,
    }) => {
      fake.outcome = 'manual'
      fake.timeoutMs = 600
      fake.fail('submit', 'late')
      const { run } = await launch()
      const job = makeJob({ pollIntervalMs: 3_600_000 })
      const ticking = job.tick(new AbortController().signal)
      while (fake.jobs.size === 0) await sleep(20)
      const fakeJob = [...fake.jobs.values()][0]
      fake.finish(fakeJob.id)
      assert.equal(await fake.sendWebhook(fakeJob.id), 204)
      await ticking
      const stored = await Run.findOrFail(run.id)
      assert.equal(stored.providerJobId, fakeJob.id)
      assert.isAtMost(stored.nextCheckAt.toMillis(), Date.now())
      const done = await driveRun(job, run.id, finished, 1)
      assert.equal(done.status, 'succeeded')
      fake.timeoutMs = 20_000
      await assertChargedOnce(assert, run.id, false)
    })
  })
}
