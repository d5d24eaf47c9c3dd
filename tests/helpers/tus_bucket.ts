import type { Assert } from '@japa/assert'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { databasePath } from '#config/database'
import ResumableUpload from '#models/resumable_upload'
import TaskInput from '#models/task_input'
import type Task from '#models/task'
import type User from '#models/user'
import taskService from '#services/tasks/task_service'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { freePort, spawnAce, type AppProcess } from '#tests/helpers/app_process'
import { tus, tusCreate, tusMetadata, tusPatch, type TusSession } from '#tests/helpers/tus'
import {
  launchAndAwaitResult,
  logIn,
  PASSWORD,
  type ObjectStoreFake,
} from '#tests/helpers/object_store_journey'

/*
 * What the suites of resumable uploads into a bucket (DRIVE_DISK=s3 and
 * gcs) share: a tus session of a real login against the app's process, the
 * upload id of a tus URL, a watch of the app's disk while bytes flow, and
 * the checks that read the same on both stores.
 */

/** What the shared checks read of the bucket (the local S3 server or the GCS fake). */
export type BucketView = Pick<ObjectStoreFake, 'keys' | 'bytes'>

export { PASSWORD }

/** A signed-in tus session (cookie + the CSRF token of the task's page). */
export async function tusSessionOn(
  server: AppProcess,
  email: string,
  taskId: string
): Promise<TusSession> {
  const web = await logIn(server, email)
  return { cookie: web.cookieHeader(), csrf: await web.csrfToken(`/tasks/${taskId}`) }
}

export const idOf = (url: string) => url.split('/').pop()!

/** HEAD's Upload-Offset of a tus upload. */
export async function offsetOf(session: TusSession, url: string) {
  return Number((await tus(session, 'HEAD', url)).headers.get('upload-offset'))
}

/**
 * Watches the app's disk while an upload runs: the largest file seen in the
 * server's temp folder (where a store may buffer a part) and anything under
 * the app's tmp/uploads (the local tus folder, unused with a bucket).
 */
export function watchDisk(serverTmp: string) {
  let largest = 0
  let local: string[] = []
  let stopped = false
  const sample = async () => {
    for (const name of await readdir(serverTmp).catch(() => [] as string[])) {
      const size = await stat(join(serverTmp, name)).then(
        (info) => (info.isFile() ? info.size : 0),
        () => 0
      )
      largest = Math.max(largest, size)
    }
    const inTmpUploads = await readdir(app.tmpPath('uploads')).catch(() => [] as string[])
    if (inTmpUploads.length) local = inTmpUploads
  }
  const loop = (async () => {
    while (!stopped) {
      await sample()
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  return {
    async stop() {
      stopped = true
      await loop
      await sample()
      return { largest, local }
    },
  }
}

/**
 * A text named .mp4 and a truncated mp4 are refused when their last byte
 * arrives (422 with the reason); no object of them is left and the task
 * keeps the input it had.
 */
export async function assertRefusedFilesKeepTheInput(
  assert: Assert,
  server: AppProcess,
  bucket: BucketView
) {
  const user = await createUser({ password: PASSWORD })
  const task = await taskService.create(user.id, { name: 'Refused', model: 'restyle' })
  const session = await tusSessionOn(server, user.email, task.id)
  const video = await readFile(await media('video.mp4'))
  const meta = (filename: string) => ({ task: task.id, kind: 'video', filename })

  const good = await tusCreate(session, video.length, meta('good.mp4'), server.baseUrl)
  assert.equal((await tusPatch(session, good, 0, video)).status, 204)
  const before = await TaskInput.query().where('taskId', task.id).firstOrFail()

  const text = await readFile(await media('text.mp4'))
  const fake = await tusCreate(session, text.length, meta('fake.mp4'), server.baseUrl)
  const half = Math.floor(text.length / 2)
  assert.equal((await tusPatch(session, fake, 0, text.subarray(0, half))).status, 204)
  const refused = await tusPatch(session, fake, half, text.subarray(half))
  assert.equal(refused.status, 422, refused.text)
  assert.equal(refused.json().error.code, 'upload_rejected')
  assert.match(refused.json().error.message, /not a video/)

  const truncated = await readFile(await media('truncated.mp4'))
  const cut = await tusCreate(session, truncated.length, meta('cut.mp4'), server.baseUrl)
  const damaged = await tusPatch(session, cut, 0, truncated)
  assert.equal(damaged.status, 422, damaged.text)
  assert.match(damaged.json().error.message, /damaged or incomplete/)

  const after = await TaskInput.query().where('taskId', task.id).firstOrFail()
  assert.equal(after.storageKey, before.storageKey)
  assert.deepEqual(await bucket.keys(`tasks/${task.id}/`), [before.storageKey])
  assert.isTrue((await bucket.bytes(before.storageKey)).equals(video))
  assert.deepEqual(await bucket.keys('uploads/'), [])
  assert.lengthOf(await ResumableUpload.all(), 0)
  assert.equal((await tus(session, 'HEAD', fake)).status, 404)
}

/**
 * The extensions offered, then a creation-with-upload of the whole video:
 * 201 with every byte counted. Returns the answer and the video sent.
 */
export async function createWithWholeFile(
  assert: Assert,
  server: AppProcess,
  session: TusSession,
  taskId: string
) {
  const video = await readFile(await media('video.mp4'))
  const options = await tus(session, 'OPTIONS', server.url('/uploads'))
  assert.equal(options.status, 204)
  assert.deepEqual(options.headers.get('tus-extension')!.split(',').sort(), [
    'creation',
    'creation-with-upload',
    'expiration',
    'termination',
  ])
  const created = await tus(session, 'POST', server.url('/uploads'), {
    headers: {
      'Upload-Length': String(video.length),
      'Upload-Metadata': tusMetadata({ task: taskId, kind: 'video', filename: 'one.mp4' }),
    },
    body: video,
  })
  assert.equal(created.status, 201, created.text)
  assert.equal(created.headers.get('upload-offset'), String(video.length))
  return { created, video }
}

/** Makes an unfinished upload look created 25 h ago to the sweep (its row). */
export async function backdateUpload(id: string) {
  const past = new Date(Date.now() - 25 * 3600 * 1000)
  await db
    .from('resumable_uploads')
    .where('id', id)
    .update({ created_at: past.toISOString().slice(0, 19).replace('T', ' ') })
  return past
}

/**
 * With the real worker process on the bucket (`workerEnv`): `task` (its
 * video uploaded by tus) is launched and renders into the bucket, and the
 * abandoned upload `abandonedId` is swept (its row goes). `afterSweep`
 * then checks the bucket while the worker still runs.
 */
export async function assertWorkerRendersAndSweeps(
  assert: Assert,
  options: {
    server: AppProcess
    bucket: BucketView
    workerEnv: Record<string, string>
    user: User
    task: Task
    abandonedId: string
  },
  afterSweep: () => Promise<void>
) {
  const { server, bucket, user, task, abandonedId } = options
  const worker = spawnAce(['worker'], {
    port: await freePort(),
    databasePath,
    env: options.workerEnv,
  })
  try {
    const web = await logIn(server, user.email)
    await launchAndAwaitResult(assert, web, task.id, bucket, worker.lines)

    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && (await ResumableUpload.find(abandonedId))) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.isNull(await ResumableUpload.find(abandonedId), worker.lines.join('\n'))
    await afterSweep()
  } finally {
    await worker.stop()
  }
}
