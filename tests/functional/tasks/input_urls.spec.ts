import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { signedUrlFor } from '@adonisjs/core/services/url_builder'
import taskService from '#services/tasks/task_service'
import { signedInputUrl } from '#services/tasks/signing'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { seededTask } from '#tests/functional/tasks/helpers'

const pathOf = (url: string) => {
  const parsed = new URL(url)
  return parsed.pathname + parsed.search
}

test.group('Signed input URLs', (group) => {
  freshState(group)

  async function activeRun() {
    const user = await createUser({ balance: 10_000 })
    const task = await seededTask(user)
    return taskService.launch(user.id, task.id)
  }

  test('the signed URL opens the input while the run is active; it starts with APP_URL', async ({
    client,
    assert,
  }) => {
    const run = await activeRun()
    const url = signedInputUrl(run.id, 'video', 600)
    assert.match(url, new RegExp(`^http://[^/]+/generation/inputs/${run.id}/video\\?signature=`))
    const response = await client.get(pathOf(url))
    response.assertStatus(200)
    response.assertHeader('content-type', 'video/mp4')
  })

  test('an expired, altered, moved or differently purposed signature is refused', async ({
    client,
  }) => {
    const run = await activeRun()
    const other = await activeRun()

    const shortLived = signedInputUrl(run.id, 'video', 0.001)
    await sleep(20)
    ;(await client.get(pathOf(shortLived))).assertStatus(403)

    const good = pathOf(signedInputUrl(run.id, 'video', 600))
    const signature = new URL(good, 'http://x').searchParams.get('signature')!
    ;(await client.get(`/generation/inputs/${run.id}/audio?signature=${signature}`)).assertStatus(
      403
    )
    ;(await client.get(`/generation/inputs/${other.id}/video?signature=${signature}`)).assertStatus(
      403
    )
    ;(await client.get(`${good}&extra=1`)).assertStatus(403)
    ;(await client.get(`/generation/inputs/${run.id}/video`)).assertStatus(403)

    /* Signed by the same key for another purpose (or none): not an input permission. */
    const unscoped = signedUrlFor('generation_inputs.show', { runId: run.id, kind: 'video' })
    ;(await client.get(pathOf(`http://x${unscoped}`))).assertStatus(403)
  })
})
