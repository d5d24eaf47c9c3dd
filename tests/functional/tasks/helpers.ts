import type { ApiClient } from '@japa/api-client'
import { basename } from 'node:path'
import type User from '#models/user'
import taskService from '#services/tasks/task_service'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'

/** POSTs a file to an input slot like the task page's form does (multipart, CSRF header). */
export function uploadTo(
  client: ApiClient,
  user: User,
  taskId: string,
  kind: string,
  path: string,
  name?: string
) {
  return signedIn(client.post(`/tasks/${taskId}/inputs/${kind}`), user)
    .header('accept', 'application/json')
    .file('file', path, { filename: name ?? basename(path) })
    .withCsrfToken()
}

/** A task with all its inputs uploaded through the real endpoint. */
export async function readyTask(
  client: ApiClient,
  user: User,
  model: 'lipsync' | 'lipsync-pro' | 'restyle'
) {
  const task = await taskService.create(user.id, { name: 'My clip', model })
  const video = await uploadTo(client, user, task.id, 'video', await media('video.mp4'))
  video.assertStatus(201)
  if (model !== 'restyle') {
    const audio = await uploadTo(client, user, task.id, 'audio', await media('audio.mp3'))
    audio.assertStatus(201)
  }
  return { task }
}
