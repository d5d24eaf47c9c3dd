import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'
import { driveRun, seededTask } from '#tests/functional/tasks/helpers'
import { FakeSyncServer } from '#tests/fakes/sync_server'
import generationConfig from '#config/generation'
import { findModel } from '#config/models'
import Run from '#models/run'
import taskService, { MODEL_UNAVAILABLE } from '#services/tasks/task_service'
import {
  candidatesFor,
  chooseProvider,
  offeredModels,
  providerNamed,
} from '#services/tasks/provider_routing'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { sqlTime } from '#helpers/sql_time'

/* Sets credentials (and the forced provider) for one test; everything is put back after. */
function withProviders(
  settings: { forced?: string; sync?: boolean; replicate?: boolean; fal?: boolean },
  cleanup: (fn: () => void) => void
) {
  const original = {
    provider: generationConfig.provider,
    sync: generationConfig.sync.apiKey,
    replicate: generationConfig.replicate.apiToken,
    fal: generationConfig.fal.key,
  }
  generationConfig.provider = settings.forced
  generationConfig.sync.apiKey = settings.sync ? 'sync-key' : ''
  generationConfig.replicate.apiToken = settings.replicate ? 'r8-token' : ''
  generationConfig.fal.key = settings.fal ? 'fal-key' : ''
  cleanup(() => {
    generationConfig.provider = original.provider
    generationConfig.sync.apiKey = original.sync
    generationConfig.replicate.apiToken = original.replicate
    generationConfig.fal.key = original.fal
  })
}

const keys = () => offeredModels().map((model) => model.key)

test.group('Models routed per provider', (group) => {
  freshState(group)

  test('no hosted credentials: local runs every model', ({ assert, cleanup }) => {
    withProviders({}, cleanup)
    assert.deepEqual(keys(), ['lipsync', 'lipsync-pro', 'restyle'])
    assert.deepEqual(candidatesFor(findModel('restyle')!), [{ provider: 'local' }])
  })

  test('credentials pick the first provider of each model, with its own model id; a model none can run is not offered', ({
    assert,
    cleanup,
  }) => {
    withProviders({ replicate: true, fal: true }, cleanup)
    assert.deepEqual(keys(), ['lipsync', 'lipsync-pro'])
    const standard = candidatesFor(findModel('lipsync')!)
    assert.deepEqual(
      standard.map((c) => [c.provider, c.route?.model]),
      [
        ['replicate', 'sync/lipsync-2'],
        ['fal', 'fal-ai/sync-lipsync/v3'],
      ]
    )
    withProviders({ sync: true, replicate: true }, cleanup)
    assert.deepEqual(candidatesFor(findModel('lipsync-pro')!)[0].route?.model, 'lipsync-2-pro')
  })

  test('GENERATION_PROVIDER forces one provider; models it cannot run are not offered', ({
    assert,
    cleanup,
  }) => {
    withProviders({ forced: 'fal', sync: true, fal: true }, cleanup)
    assert.deepEqual(keys(), ['lipsync'])
    withProviders({ forced: 'http' }, cleanup)
    assert.deepEqual(keys(), ['lipsync', 'lipsync-pro', 'restyle'])
  })

  test('/tasks/new lists only runnable models; creating or launching another is refused clearly, nothing charged', async ({
    client,
    assert,
    cleanup,
  }) => {
    const user = await createUser({ balance: 1000 })
    const restyle = await seededTask(user, 'restyle', 'Old restyle task')
    withProviders({ sync: true }, cleanup)

    const page = await signedIn(client.get('/tasks/new'), user)
    page.assertStatus(200)
    assert.include(page.text(), 'Lip sync · Standard')
    assert.notInclude(page.text(), 'Cinematic restyle')

    await assert.rejects(() => taskService.create(user.id, { name: 'x', model: 'restyle' }))

    const launch = await signedIn(client.post(`/tasks/${restyle.id}/runs`), user)
      .withCsrfToken()
      .redirects(0)
    launch.assertStatus(302)
    launch.assertFlashMessage('launchError', { message: MODEL_UNAVAILABLE, link: null })
    assert.lengthOf(await Run.query().where('taskId', restyle.id), 0)
    await user.refresh()
    assert.equal(user.balance, 1000)
  })

  test('failover: a provider whose submits fail longer than the limit gets no new runs; a run keeps its provider', async ({
    assert,
    cleanup,
  }) => {
    withProviders({ sync: true, replicate: true }, cleanup)
    const model = findModel('lipsync')!
    const minutes = (n: number) => sqlTime(DateTime.now().minus({ minutes: n }))
    await db.table('provider_outages').insert({
      provider: 'sync',
      failing_since: minutes(1),
      last_error: '503',
      updated_at: minutes(0),
    })
    assert.equal((await chooseProvider(model))?.provider, 'sync')

    const user = await createUser({ balance: 1000 })
    const first = await taskService.launch(user.id, (await seededTask(user)).id)
    assert.equal(first.provider, 'sync')

    await db
      .from('provider_outages')
      .where('provider', 'sync')
      .update({ failing_since: minutes(generationConfig.failoverAfterMs / 60_000 + 1) })
    assert.equal((await chooseProvider(model))?.provider, 'replicate')
    const second = await taskService.launch(user.id, (await seededTask(user, 'lipsync', 'B')).id)
    assert.equal(second.provider, 'replicate')
    assert.equal((await Run.findOrFail(first.id)).provider, 'sync')
  })

  test('the worker starts the outage clock on failing submits and clears it on the next good one', async ({
    assert,
    cleanup,
  }) => {
    const fake = await new FakeSyncServer(await media('video.mp4')).start()
    cleanup(() => fake.stop())
    const original = { ...generationConfig.sync }
    Object.assign(generationConfig.sync, {
      apiKey: fake.apiKey,
      baseUrl: fake.url,
      webhookSecret: '',
    })
    cleanup(() => {
      Object.assign(generationConfig.sync, original)
    })
    withProviders({ forced: 'sync', sync: true }, cleanup)
    generationConfig.sync.apiKey = fake.apiKey

    const user = await createUser({ balance: 1000 })
    const run = await taskService.launch(user.id, (await seededTask(user)).id)
    const job = new GenerationRunsJob(providerNamed('sync'), {
      ...generationConfig.worker,
      pollIntervalMs: 0,
      maxBackoffMs: 0,
      tickWaitMs: 60_000,
    })
    fake.fail('submit', '503', 2)
    await job.tick(new AbortController().signal)
    const outage = await db.from('provider_outages').where('provider', 'sync').first()
    assert.exists(outage)
    await job.tick(new AbortController().signal)
    assert.equal(
      (await db.from('provider_outages').where('provider', 'sync').first()).failing_since,
      outage.failing_since,
      'the clock keeps its start'
    )
    await driveRun(job, run.id, (r) => !!r.providerJobId)
    assert.notExists(await db.from('provider_outages').where('provider', 'sync').first())
  })
})
