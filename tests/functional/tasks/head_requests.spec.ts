import { test } from '@japa/runner'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import db from '@adonisjs/lucid/services/db'
import type { ApiClient } from '@japa/api-client'
import mediaStorage from '#integrations/storage/media_storage'
import taskService from '#services/tasks/task_service'
import { signedInputUrl } from '#services/tasks/signing'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'
import { pathOf } from '#tests/helpers/mailbox'
import { seededTask } from '#tests/functional/tasks/helpers'
import type User from '#models/user'

/*
 * HEAD on the file routes answers like GET without the body: same status
 * (200, 206 for a range), same Content-Length, Content-Type,
 * Content-Disposition, Accept-Ranges and Content-Range.
 */

const COMPARED = [
  'content-length',
  'content-type',
  'content-disposition',
  'accept-ranges',
  'content-range',
  'cache-control',
]

async function fileRoutes(user: User) {
  const task = await seededTask(user, 'lipsync')
  const run = await taskService.launch(user.id, task.id)
  const signedInput = pathOf(signedInputUrl(run.id, 'video', 600))
  /* A finished run with a result, for the download route. */
  const done = await taskService.launch(user.id, (await seededTask(user, 'lipsync')).id)
  const outputKey = `tasks/${done.taskId}/runs/${done.id}.mp4`
  await mediaStorage.putStream(outputKey, createReadStream(await media('video.mp4')))
  await db.from('runs').where('id', done.id).update({ status: 'succeeded', output_key: outputKey })
  return {
    'task input': `/tasks/${task.id}/inputs/video`,
    'run result': `/tasks/${done.taskId}/runs/${done.id}/download`,
    'signed provider input': signedInput,
  }
}

function send(client: ApiClient, method: 'GET' | 'HEAD', url: string, user: User, range?: string) {
  const request = signedIn(method === 'GET' ? client.get(url) : client.head(url), user)
  return range ? request.header('range', range) : request
}

test.group('HEAD on file routes', (group) => {
  freshState(group)

  test('HEAD answers like GET, without a body, whole file and byte range', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 10_000 })
    const size = (await stat(await media('video.mp4'))).size
    const routes = await fileRoutes(user)
    for (const [name, url] of Object.entries(routes)) {
      for (const range of [undefined, 'bytes=4-11', 'bytes=-10']) {
        const get = await send(client, 'GET', url, user, range)
        const head = await send(client, 'HEAD', url, user, range)
        const label = `${name} ${range ?? 'whole'}`
        assert.equal(get.status(), range ? 206 : 200, label)
        assert.equal(head.status(), get.status(), label)
        for (const header of COMPARED) {
          assert.equal(head.header(header), get.header(header), `${label}: ${header}`)
        }
        assert.equal(
          head.header('content-length'),
          range ? (range === 'bytes=4-11' ? '8' : '10') : String(size)
        )
        assert.equal(head.text() ?? '', '', `${label}: no body`)
      }
      const beyond = await send(client, 'HEAD', url, user, `bytes=${size}-`)
      assert.equal(beyond.status(), 416, name)
      assert.equal(beyond.header('content-range'), `bytes */${size}`)
    }
  }).timeout(60_000)
})
