import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import generationConfig from '#config/generation'
import { findModel } from '#config/models'
import type Run from '#models/run'
import taskService from '#services/tasks/task_service'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { seededTask } from '#tests/functional/tasks/helpers'

/*
 * Found by the chaos run (npm run chaos -- --provider local): a job that
 * finished and was released while it also sat in the render queue was
 * started again later; its folder was gone, writing its pid threw before
 * the exit listener was attached, and the render slot stayed taken for
 * good: with LOCAL_MAX_RENDERS=1 every later run stayed queued until its
 * deadline.
 */

function request(run: Run) {
  return {
    reference: run.id,
    model: findModel(run.model)!,
    inputs: run.inputs.map((input) => ({
      kind: input.kind,
      storageKey: input.storageKey,
      url: '',
      contentType: input.type,
      size: input.size,
    })),
    clipSeconds: 1,
  }
}

test.group('Local renders / slots', (group) => {
  freshState(group)
  let previous: number
  group.each.setup(() => {
    previous = generationConfig.localMaxRenders
    generationConfig.localMaxRenders = 1
    return () => {
      generationConfig.localMaxRenders = previous
    }
  })

  test('a job released while it waits for a slot never starts, and the slot comes back', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const first = await taskService.launch(user.id, (await seededTask(user, 'restyle', 'A')).id)
    const second = await taskService.launch(user.id, (await seededTask(user, 'restyle', 'B')).id)
    const provider = new LocalFfmpegProvider()
    const a = await provider.submit(request(first))
    const b = await provider.submit(request(second))
    assert.equal(LocalFfmpegProvider.renders().waiting, 1)

    /* B is done with (finished, or its run failed and was refunded) while still queued. */
    await provider.release(b.jobId)

    const deadline = Date.now() + 30_000
    while ((await provider.getStatus(a.jobId)).state !== 'succeeded' && Date.now() < deadline)
      await sleep(100)
    assert.equal((await provider.getStatus(a.jobId)).state, 'succeeded')
    await sleep(500)
    const { running, waiting } = LocalFfmpegProvider.renders()
    assert.deepEqual({ running, waiting }, { running: 0, waiting: 0 })
    await provider.release(a.jobId)
  }).timeout(60_000)
})
