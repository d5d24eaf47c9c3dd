import type { ApiClient, ApiRequest } from '@japa/api-client'
import { createReadStream } from 'node:fs'
import { Agent } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Run from '#models/run'
import TaskInput from '#models/task_input'
import mediaStorage from '#integrations/storage/media_storage'
import type { GenerationRunsJob } from '#jobs/generation_runs_job'
import type User from '#models/user'
import taskService from '#services/tasks/task_service'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'

/*
 * Uploads reuse connections like a browser. The api client's default is a
 * new connection per request with "Connection: close": when the server
 * answers before the body is in (a 404, a bad CSRF token, a file over the
 * limit), it then closes the socket and the client's remaining writes fail
 * with EPIPE instead of the answer being read. (Idle sockets are unref'd.)
 */
const keepAliveAgent = new Agent({ keepAlive: true })

export function keepAlive<T extends ApiRequest>(request: T) {
  return request.setup((pending) => {
    pending.request.agent(keepAliveAgent)
  }) as T
}

/** POSTs a file to an input slot like the task page's form does (multipart, CSRF header). */
export function uploadTo(
  client: ApiClient,
  user: User,
  taskId: string,
  kind: string,
  path: string,
  name?: string
) {
  return keepAlive(signedIn(client.post(`/tasks/${taskId}/inputs/${kind}`), user))
    .header('accept', 'application/json')
    .file('file', path, { filename: name ?? basename(path) })
    .withCsrfToken()
}

/**
 * PUTs a file as the raw body, like the task page's uploader: name in
 * X-File-Name (URL-encoded; `null` sends none), CSRF token in a header.
 */
export async function putTo(
  client: ApiClient,
  user: User,
  taskId: string,
  kind: string,
  path: string,
  name?: string | null
) {
  const request = keepAlive(signedIn(client.put(`/tasks/${taskId}/inputs/${kind}`), user))
    .header('accept', 'application/json')
    .header('content-type', 'application/octet-stream')
    .withCsrfToken()
  if (name !== null) request.header('x-file-name', encodeURIComponent(name ?? basename(path)))
  /* The api client has no raw-body method; its superagent request sends a Buffer as it is. */
  request.request.send(await readFile(path))
  return request
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

/**
 * A task whose inputs are already in storage (no HTTP upload, no ffprobe):
 * quick set-up for worker tests. Durations are the fixtures' real ones.
 */
export async function seededTask(
  user: User,
  model: 'lipsync' | 'restyle' = 'lipsync',
  name = 'Seeded clip'
) {
  const task = await taskService.create(user.id, { name, model })
  const files = [
    {
      kind: 'video' as const,
      file: await media('video.mp4'),
      mime: 'video/mp4',
      container: 'mp4',
      duration: 2,
    },
    {
      kind: 'audio' as const,
      file: await media('audio.mp3'),
      mime: 'audio/mpeg',
      container: 'mp3',
      duration: 1.5,
    },
  ].filter((entry) => model !== 'restyle' || entry.kind === 'video')
  for (const entry of files) {
    const key = `tasks/${task.id}/inputs/${entry.kind}.${entry.container}`
    await mediaStorage.putStream(key, createReadStream(entry.file))
    await TaskInput.create({
      taskId: task.id,
      kind: entry.kind,
      storageKey: key,
      originalName: basename(entry.file),
      mimeType: entry.mime,
      container: entry.container,
      size: (await stat(entry.file)).size,
      duration: entry.duration,
      width: entry.kind === 'video' ? 160 : null,
      height: entry.kind === 'video' ? 120 : null,
    })
  }
  return task
}

/** Runs worker ticks until the run satisfies `done` (or fails the test after `max` ticks). */
export async function driveRun(
  job: GenerationRunsJob,
  runId: string,
  done: (run: Run) => boolean,
  max = 30
) {
  for (let tick = 0; tick < max; tick++) {
    await job.tick(new AbortController().signal)
    const run = await Run.findOrFail(runId)
    if (done(run)) return run
  }
  throw new Error(`run ${runId} did not reach the expected state in ${max} ticks`)
}

/** Waits (real time) until the run satisfies `done`. */
export async function waitForRun(runId: string, done: (run: Run) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const run = await Run.findOrFail(runId)
    if (done(run)) return run
    await sleep(50)
  }
  throw new Error(`run ${runId} did not reach the expected state in ${timeoutMs} ms`)
}
