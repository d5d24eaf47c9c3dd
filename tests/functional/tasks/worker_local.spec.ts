import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { probeDuration, probeStreams } from '#tests/helpers/media'
import { driveRun, seededTask } from '#tests/functional/tasks/helpers'
import generationConfig from '#config/generation'
import app from '@adonisjs/core/services/app'
import Run from '#models/run'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import mediaStorage from '#integrations/storage/media_storage'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'

const finished = (run: Run) => run.status === 'succeeded' || run.status === 'failed'

function localJob() {
  return new GenerationRunsJob(new LocalFfmpegProvider(), {
    ...generationConfig.worker,
    pollIntervalMs: 0,
  })
}

test.group('Worker with the local ffmpeg provider', (group) => {
  freshState(group)

  test('a lip-sync run renders an H.264/AAC MP4 the owner downloads (with Range)', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync', 'Beach day!')
    const run = await taskService.launch(user.id, task.id)
    const done = await driveRun(localJob(), run.id, finished, 5000)
    assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
    assert.match(done.providerJobId!, /^local-/)

    const download = await signedIn(client.get(`/tasks/${task.id}/runs/${run.id}/download`), user)
    download.assertStatus(200)
    download.assertHeader('content-type', 'video/mp4')
    assert.match(
      download.header('content-disposition') ?? '',
      /^attachment; filename="Beach-day-run-1.mp4"/
    )
    const file = app.makePath('tmp', `download-${run.id}.mp4`)
    await writeFile(
      file,
      download.body() instanceof Buffer ? download.body() : Buffer.from(download.text(), 'binary')
    )
    assert.sameMembers(
      (await probeStreams(file)).map((s) => `${s.codec_type}:${s.codec_name}`),
      ['video:h264', 'audio:aac']
    )
    /* -shortest: as long as the 1.5 s audio, not the 2 s video. */
    assert.closeTo(await probeDuration(file), 1.5, 0.25)

    const range = await signedIn(
      client.get(`/tasks/${task.id}/runs/${run.id}/download`),
      user
    ).header('range', 'bytes=0-99')
    range.assertStatus(206)
    range.assertHeader('content-length', '100')

    const status = await signedIn(client.get(`/tasks/${task.id}/status`), user)
    assert.include(status.body(), { status: 'succeeded', active: false })
    assert.equal(status.body().runs[0].downloadUrl, `/tasks/${task.id}/runs/${run.id}/download`)
    /* The provider's scratch folder is gone once the output is ours. */
    assert.isFalse(await mediaStorage.exists(`.work/generation/${done.providerJobId}/output.mp4`))
  })

  test('a video-only model renders from the video alone', async ({ assert }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'restyle')
    const run = await taskService.launch(user.id, task.id)
    assert.equal(run.cost, 50)
    const done = await driveRun(localJob(), run.id, finished, 5000)
    assert.equal(done.status, 'succeeded', done.errorMessage ?? '')
    const streams = await probeStreams(mediaStorage.localPath(done.outputKey!)!)
    assert.sameMembers(
      streams.map((s) => `${s.codec_type}:${s.codec_name}`),
      ['video:h264', 'audio:aac']
    )
  })

  test('a render that fails on our side is refunded once', async ({ assert }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'restyle')
    const input = await TaskInput.findByOrFail('taskId', task.id)
    await writeFile(join(mediaStorage.localPath(input.storageKey)!), 'no longer a video')
    const run = await taskService.launch(user.id, task.id)
    const done = await driveRun(localJob(), run.id, finished, 5000)
    assert.equal(done.status, 'failed')
    assert.equal(done.errorMessage, 'The clip could not be rendered from these files.')
    const refunds = await db.from('ledger_entries').where('reference', `refund:run:${run.id}`)
    assert.lengthOf(refunds, 1)
    await user.refresh()
    assert.equal(user.balance, 1000)
    await assertLedgerInvariant(assert)
  })

  test('renders are capped at LOCAL_MAX_RENDERS while many runs are due at once', async ({
    assert,
    cleanup,
  }) => {
    const cap = generationConfig.localMaxRenders
    generationConfig.localMaxRenders = 2
    cleanup(() => {
      generationConfig.localMaxRenders = cap
    })
    const user = await createUser({ balance: 10_000 })
    const runs: Run[] = []
    for (let i = 0; i < 6; i++)
      runs.push(await taskService.launch(user.id, (await seededTask(user, 'lipsync', `C${i}`)).id))
    const job = new GenerationRunsJob(new LocalFfmpegProvider(), {
      ...generationConfig.worker,
      pollIntervalMs: 0,
      tickWaitMs: 20,
    })
    const before = LocalFfmpegProvider.renders().peak
    let peak = 0
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      await job.tick(new AbortController().signal)
      peak = Math.max(peak, LocalFfmpegProvider.renders().running)
      const open = await Run.query()
        .whereIn(
          'id',
          runs.map((r) => r.id)
        )
        .whereIn('status', ['queued', 'running'])
      if (open.length === 0) break
    }
    await job.stop()
    const done = await Run.query().whereIn(
      'id',
      runs.map((r) => r.id)
    )
    assert.deepEqual(
      done.map((r) => r.status),
      Array(6).fill('succeeded')
    )
    assert.isAtMost(peak, 2)
    assert.isAtMost(Math.max(before, LocalFfmpegProvider.renders().peak), Math.max(before, 2))
  })
})
