import type { Assert } from '@japa/assert'
import { readFile } from 'node:fs/promises'
import { databasePath } from '#config/database'
import generationConfig from '#config/generation'
import TaskInput from '#models/task_input'
import Run from '#models/run'
import taskService from '#services/tasks/task_service'
import { createUser, TEST_PASSWORD } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { freePort, logIn, spawnAce, startServer, type WebClient } from '#tests/helpers/app_process'
import { waitForRun } from '#tests/functional/tasks/helpers'
import { tus, tusCreate, tusPatch } from '#tests/helpers/tus'
import type { FakeSyncServer } from '#tests/fakes/sync_server'

/*
 * The object-store journey shared by the DRIVE_DISK=s3 and =gcs suites: the
 * app runs as its own process (and the worker as another) against a local
 * fake of the store, and every byte is checked in the store itself.
 */

export const PASSWORD = TEST_PASSWORD
export { logIn }

/** What a journey needs from a local store: the app's env and a direct look inside. */
export type ObjectStoreFake = {
  appEnv(extra?: Record<string, string>): Record<string, string>
  bytes(key: string): Buffer | Promise<Buffer>
  keys(prefix?: string): string[] | Promise<string[]>
}

/** The page's uploader: a raw PUT of the file. */
export function putFile(web: WebClient, csrf: string, path: string, body: Buffer, name: string) {
  return web.request(path, {
    method: 'PUT',
    headers: {
      'accept': 'application/json',
      'content-type': 'application/octet-stream',
      'x-file-name': encodeURIComponent(name),
      'x-csrf-token': csrf,
    },
    body,
  })
}

/** The form without JavaScript: multipart. */
export function postFile(web: WebClient, csrf: string, path: string, body: Buffer, name: string) {
  const form = new FormData()
  form.append('file', new Blob([body]), name)
  return web.request(path, {
    method: 'POST',
    headers: { 'accept': 'application/json', 'x-csrf-token': csrf },
    body: form,
  })
}

/** Starts the app against `store` (worker not included). */
export async function startAppOn(store: ObjectStoreFake, extra: Record<string, string> = {}) {
  return startServer({
    port: await freePort(),
    databasePath,
    env: store.appEnv({ LOG_LEVEL: 'warn', ...extra }),
  })
}

/**
 * Upload (raw PUT + multipart) → preview with Range → launch (local
 * ffmpeg, the worker reading inputs from the store and putting the result
 * there) → download whole and with Range → delete the task, which leaves
 * no object under it. Returns what a suite may check further.
 */
export async function objectStoreJourney(assert: Assert, store: ObjectStoreFake) {
  const user = await createUser({ password: PASSWORD, balance: 5000 })
  const task = await taskService.create(user.id, { name: 'Stored clip', model: 'lipsync' })
  const video = await readFile(await media('video.mp4'))
  const audio = await readFile(await media('audio.mp3'))
  const server = await startAppOn(store)
  const worker = spawnAce(['worker'], {
    port: 3399,
    databasePath,
    env: store.appEnv({ WORKER_POLL_MS: '50', LOG_LEVEL: 'warn' }),
  })
  try {
    const web = await logIn(server, user.email)
    const csrf = await web.csrfToken(`/tasks/${task.id}`)

    const put = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'clip.mp4')
    assert.equal(put.status, 201, await put.clone().text())
    const post = await postFile(web, csrf, `/tasks/${task.id}/inputs/audio`, audio, 'voice.mp3')
    assert.equal(post.status, 201, await post.clone().text())

    const inputs = await TaskInput.query().where('taskId', task.id).orderBy('kind', 'desc')
    assert.deepEqual(
      inputs.map((input) => [input.kind, input.size]),
      [
        ['video', video.length],
        ['audio', audio.length],
      ]
    )
    /* In the store exactly as sent, and nothing left in the scratch area. */
    assert.isTrue((await store.bytes(inputs[0].storageKey)).equals(video))
    assert.isTrue((await store.bytes(inputs[1].storageKey)).equals(audio))
    assert.deepEqual(await store.keys('.work/'), [])

    /* The preview player's ranged read. */
    const preview = await web.request(`/tasks/${task.id}/inputs/video`, {
      headers: { range: 'bytes=100-1123' },
    })
    assert.equal(preview.status, 206)
    assert.equal(preview.headers.get('content-range'), `bytes 100-1123/${video.length}`)
    assert.isTrue(Buffer.from(await preview.arrayBuffer()).equals(video.subarray(100, 1124)))

    const { run, output } = await launchAndAwaitResult(assert, web, task.id, store, worker.lines)

    const download = `/tasks/${task.id}/runs/${run.id}/download`
    const whole = await web.request(download)
    assert.equal(whole.status, 200)
    assert.isTrue(Buffer.from(await whole.arrayBuffer()).equals(output))
    const tail = await web.request(download, { headers: { range: 'bytes=-500' } })
    assert.equal(tail.status, 206)
    assert.equal(
      tail.headers.get('content-range'),
      `bytes ${output.length - 500}-${output.length - 1}/${output.length}`
    )
    assert.isTrue(Buffer.from(await tail.arrayBuffer()).equals(output.subarray(-500)))
    const beyond = await web.request(download, { headers: { range: `bytes=${output.length}-` } })
    assert.equal(beyond.status, 416)

    const stored = await store.keys(`tasks/${task.id}/`)
    assert.isNotEmpty(stored)
    const removed = await web.submit(`/tasks/${task.id}`, `/tasks/${task.id}/delete`, {})
    assert.equal(removed.status, 302)
    assert.deepEqual(await store.keys(`tasks/${task.id}/`), [])
    return { task, video, inputs, run, output, stored, workerLines: worker.lines }
  } finally {
    await worker.stop()
    await server.stop()
  }
}

/**
 * A resumable (tus) upload of a video in two PATCHes, HEAD's offset in
 * between, becomes the task's input byte for byte in the store. Returns the
 * upload's URL, the session and the input for the store's own checks.
 */
export async function tusUploadInTwoPatches(assert: Assert, store: ObjectStoreFake) {
  const user = await createUser({ password: PASSWORD })
  const task = await taskService.create(user.id, { name: 'Resumed', model: 'restyle' })
  const video = await readFile(await media('video.mp4'))
  const server = await startAppOn(store)
  try {
    const web = await logIn(server, user.email)
    const session = { cookie: web.cookieHeader(), csrf: await web.csrfToken(`/tasks/${task.id}`) }
    const meta = { task: task.id, kind: 'video', filename: 'resumed.mp4' }
    const url = await tusCreate(session, video.length, meta, server.baseUrl)
    const half = Math.floor(video.length / 2)
    assert.equal((await tusPatch(session, url, 0, video.subarray(0, half))).status, 204)
    assert.equal((await tus(session, 'HEAD', url)).headers.get('upload-offset'), String(half))
    const last = await tusPatch(session, url, half, video.subarray(half))
    assert.equal(last.status, 204, last.text)

    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.size, video.length)
    assert.isTrue((await store.bytes(input.storageKey)).equals(video))
    /* Finished, the upload is gone (its row and its bytes). */
    assert.equal((await tus(session, 'HEAD', url)).status, 404)
    return { task, input }
  } finally {
    await server.stop()
  }
}

/**
 * A hosted provider (the sync.so fake, fetching inputs itself) renders a
 * lipsync task whose video and audio were put straight into the store
 * (`put`), through the real worker process on the store: the run succeeds,
 * the provider fetched each input once and whole, and the result is in the
 * store. `checkFetches` checks the URLs the provider got (store-specific).
 */
export async function assertHostedRunFetchesFromStore(
  assert: Assert,
  store: ObjectStoreFake,
  sync: FakeSyncServer,
  put: (key: string, body: Buffer) => unknown,
  checkFetches: (urls: URL[]) => void
) {
  const forced = generationConfig.provider
  const syncKey = generationConfig.sync.apiKey
  generationConfig.provider = 'sync'
  generationConfig.sync.apiKey = sync.apiKey
  try {
    const user = await createUser({ balance: 5000 })
    const task = await taskService.create(user.id, { name: 'Hosted', model: 'lipsync' })
    const files = {
      video: await readFile(await media('video.mp4')),
      audio: await readFile(await media('audio.mp3')),
    }
    for (const [kind, body] of Object.entries(files)) {
      const key = `tasks/${task.id}/inputs/${kind}`
      await put(key, body)
      await TaskInput.create({
        taskId: task.id,
        kind: kind as 'video' | 'audio',
        storageKey: key,
        originalName: `${kind}.bin`,
        mimeType: kind === 'video' ? 'video/mp4' : 'audio/mpeg',
        container: kind === 'video' ? 'mp4' : 'mp3',
        size: body.length,
        duration: kind === 'video' ? 2 : 1.5,
        width: null,
        height: null,
      })
    }
    const launched = await taskService.launch(user.id, task.id)
    assert.equal(launched.provider, 'sync')

    const worker = spawnAce(['worker'], {
      port: await freePort(),
      databasePath,
      env: store.appEnv({
        GENERATION_PROVIDER: 'sync',
        SYNC_API_KEY: sync.apiKey,
        SYNC_API_URL: sync.url,
        SYNC_WEBHOOK_SECRET: '',
        WORKER_POLL_MS: '50',
        LOG_LEVEL: 'warn',
      }),
    })
    try {
      const run = await waitForRun(
        launched.id,
        (r) => r.status === 'succeeded' || r.status === 'failed',
        60_000
      )
      assert.equal(run.status, 'succeeded', `${run.errorMessage}\n${worker.lines.join('\n')}`)
      assert.deepEqual(
        sync.inputFetches.map((fetched) => [fetched.status, fetched.bytes]),
        [
          [200, files.video.length],
          [200, files.audio.length],
        ]
      )
      checkFetches(sync.inputFetches.map((fetched) => new URL(fetched.url)))
      const output = await store.bytes(run.outputKey!)
      assert.equal(output.subarray(4, 8).toString('latin1'), 'ftyp')
    } finally {
      await worker.stop()
    }
  } finally {
    generationConfig.provider = forced
    generationConfig.sync.apiKey = syncKey
  }
}

/**
 * Launches `taskId` from its page (as its signed-in owner, `web`) and waits
 * for the worker (`workerLines`, shown when it fails) to finish the run: it
 * succeeds and its result is an MP4 of the recorded size in the store.
 */
export async function launchAndAwaitResult(
  assert: Assert,
  web: WebClient,
  taskId: string,
  store: Pick<ObjectStoreFake, 'bytes'>,
  workerLines: string[]
) {
  const launch = await web.submit(`/tasks/${taskId}`, `/tasks/${taskId}/runs`, {})
  assert.equal(launch.status, 302)
  const launched = await Run.query().where('taskId', taskId).firstOrFail()
  const run = await waitForRun(
    launched.id,
    (r) => r.status === 'succeeded' || r.status === 'failed',
    60_000
  )
  assert.equal(run.status, 'succeeded', `${run.errorMessage}\n${workerLines.join('\n')}`)
  const output = await store.bytes(run.outputKey!)
  assert.equal(output.length, run.outputSize)
  assert.equal(output.subarray(4, 8).toString('latin1'), 'ftyp')
  return { run, output }
}
