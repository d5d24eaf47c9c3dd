import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { media } from '#tests/helpers/media'
import { seededTask, waitForRun } from '#tests/functional/tasks/helpers'
import { FakeSyncServer } from '#tests/fakes/sync_server'
import generationConfig from '#config/generation'
import Run from '#models/run'
import taskService from '#services/tasks/task_service'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { providerNamed } from '#services/tasks/provider_routing'
import { ProviderLane } from '#services/tasks/provider_lane'

test.group('Provider lanes (unit)', () => {
  test('60 submits a minute: a burst of 10, then one a second', ({ assert }) => {
    const lane = new ProviderLane(32, 60)
    const start = Date.now()
    let taken = 0
    while (lane.takeSubmit(start)) taken += 1
    assert.equal(taken, 10)
    assert.isFalse(lane.takeSubmit(start + 500))
    assert.isTrue(lane.takeSubmit(start + 1000))
    assert.isFalse(lane.takeSubmit(start + 1000))
  })

  test('Retry-After pauses the whole lane; the in-flight bound holds', ({ assert }) => {
    const lane = new ProviderLane(2, null)
    const now = Date.now()
    assert.equal(lane.free(now), 2)
    lane.active = 2
    assert.equal(lane.free(now), 0)
    lane.active = 0
    lane.pause(now + 3000)
    assert.equal(lane.free(now + 2999), 0)
    assert.isFalse(lane.canSubmit(now + 2999))
    assert.equal(lane.free(now + 3000), 2)
  })
})

test.group('Worker concurrency (fake sync.so)', (group) => {
  freshState(group)
  let fake: FakeSyncServer

  group.setup(async () => {
    fake = await new FakeSyncServer(await media('video.mp4')).start()
    return () => fake.stop()
  })
  group.each.setup(() => {
    fake.reset()
    const original = { ...generationConfig.sync, provider: generationConfig.provider }
    Object.assign(generationConfig.sync, {
      apiKey: fake.apiKey,
      baseUrl: fake.url,
      webhookSecret: '',
      requestTimeoutMs: 5000,
    })
    generationConfig.provider = 'sync'
    return () => {
      const { provider, ...sync } = original
      Object.assign(generationConfig.sync, sync)
      generationConfig.provider = provider
    }
  })

  async function launchMany(count: number) {
    const user = await createUser({ balance: 100_000 })
    const runs: Run[] = []
    for (let i = 0; i < count; i++)
      runs.push(await taskService.launch(user.id, (await seededTask(user, 'lipsync', `T${i}`)).id))
    return runs
  }

  test("sync.so's 60 submits a minute: one tick submits a burst of 10 of 15 due runs", async ({
    assert,
  }) => {
    await launchMany(15)
    const job = new GenerationRunsJob(providerNamed('sync'), {
      ...generationConfig.worker,
      pollIntervalMs: 60_000,
      tickWaitMs: 60_000,
    })
    await job.tick(new AbortController().signal)
    assert.equal(fake.submits, 10)
    await job.tick(new AbortController().signal)
    assert.isAtMost(fake.submits, 11)
    assert.equal((await Run.query().whereNotNull('providerJobId')).length, fake.submits)
  })

  test('a stalled output download does not hold the other runs back', async ({ assert }) => {
    const [slow, fast] = await launchMany(2)
    const job = new GenerationRunsJob(providerNamed('sync'), {
      ...generationConfig.worker,
      pollIntervalMs: 0,
      maxBackoffMs: 0,
      tickWaitMs: 50,
      outputCopyTimeoutMs: 3000,
    })
    const controller = new AbortController()
    /* Submitted, then the slow run's output hangs once it is done. */
    while ((await Run.query().whereNotNull('providerJobId')).length < 2)
      await job.tick(controller.signal)
    fake.stalledOutputs.add((await Run.findOrFail(slow.id)).providerJobId!)
    let fastDone: Run | null = null
    for (let i = 0; i < 100 && !fastDone; i++) {
      await job.tick(controller.signal)
      const current = await Run.findOrFail(fast.id)
      if (current.status === 'succeeded') fastDone = current
      await sleep(20)
    }
    assert.exists(fastDone, 'the fast run finished')
    const stuck = await Run.findOrFail(slow.id)
    assert.include(['queued', 'running'], stuck.status, 'the slow one is still copying')

    /* Its copy is abandoned after outputCopyTimeoutMs and retried; now the host answers. */
    fake.stalledOutputs.clear()
    const loop = (async () => {
      while (!controller.signal.aborted) {
        await job.tick(controller.signal)
        await sleep(50)
      }
    })()
    const done = await waitForRun(slow.id, (r) => r.status === 'succeeded', 15_000)
    controller.abort()
    await loop
    await job.stop()
    assert.isAtLeast(done.outputAttempts, 1)
    await assertLedgerInvariant(assert)
  })
})
