import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { Readable } from 'node:stream'
import { databasePath } from '#config/database'
import TaskInput from '#models/task_input'
import Run from '#models/run'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import {
  freePort,
  spawnAce,
  startServer,
  WebClient,
  type AppProcess,
} from '#tests/helpers/app_process'
import { waitForRun } from '#tests/functional/tasks/helpers'
import { FakeS3Server } from '#tests/fakes/s3_server'
import { tus, tusCreate, tusPatch } from '#tests/helpers/tus'

/*
 * DRIVE_DISK=s3 for real: the app runs as its own process (with the worker
 * in-process) against a local S3-compatible server, and every byte is
 * checked in the bucket itself.
 */
const PASSWORD = 'correct horse battery'

async function logIn(server: AppProcess, email: string) {
  const web = new WebClient(server)
  const login = await web.submit('/login', '/login', { email, password: PASSWORD })
  if (login.headers.get('location') !== '/tasks') throw new Error('login failed')
  return web
}

function putFile(web: WebClient, csrf: string, path: string, body: Buffer, name: string) {
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

function postFile(web: WebClient, csrf: string, path: string, body: Buffer, name: string) {
  const form = new FormData()
  form.append('file', new Blob([body]), name)
  return web.request(path, {
    method: 'POST',
    headers: { 'accept': 'application/json', 'x-csrf-token': csrf },
    body: form,
  })
}

test.group('DRIVE_DISK=s3 against a local S3-compatible server', (group) => {
  freshState(group)
  const s3 = new FakeS3Server()
  group.setup(async () => {
    await s3.start()
    return () => s3.stop()
  })

  test('upload → launch → result → download with Range → delete, byte for byte', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD, balance: 5000 })
    const task = await taskService.create(user.id, { name: 'S3 clip', model: 'lipsync' })
    const video = await readFile(await media('video.mp4'))
    const audio = await readFile(await media('audio.mp3'))
    const server = await startServer({
      port: await freePort(),
      databasePath,
      env: s3.appEnv({ LOG_LEVEL: 'warn' }),
    })
    /* The worker renders with local ffmpeg: inputs read from the bucket, the result put there. */
    const worker = spawnAce(['worker'], {
      port: 3399,
      databasePath,
      env: s3.appEnv({ WORKER_POLL_MS: '50', LOG_LEVEL: 'warn' }),
    })
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)

      /* The raw PUT (the page's uploader) and the multipart form (no JavaScript). */
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
      /* In the bucket exactly as sent: no aws-chunked framing inside the object. */
      assert.isTrue((await s3.bytes(inputs[0].storageKey)).equals(video))
      assert.isTrue((await s3.bytes(inputs[1].storageKey)).equals(audio))
      assert.deepEqual(await s3.keys('.work/'), [])

      /* The preview player's ranged read comes from the store. */
      const preview = await web.request(`/tasks/${task.id}/inputs/video`, {
        headers: { range: 'bytes=100-1123' },
      })
      assert.equal(preview.status, 206)
      assert.equal(preview.headers.get('content-range'), `bytes 100-1123/${video.length}`)
      assert.isTrue(Buffer.from(await preview.arrayBuffer()).equals(video.subarray(100, 1124)))

      const launch = await web.submit(`/tasks/${task.id}`, `/tasks/${task.id}/runs`, {})
      assert.equal(launch.status, 302)
      const launched = await Run.query().where('taskId', task.id).firstOrFail()
      const run = await waitForRun(
        launched.id,
        (r) => r.status === 'succeeded' || r.status === 'failed',
        60_000
      )
      assert.equal(run.status, 'succeeded', `${run.errorMessage}\n${worker.lines.join('\n')}`)
      const output = await s3.bytes(run.outputKey!)
      assert.equal(output.length, run.outputSize)
      assert.equal(output.subarray(4, 8).toString('latin1'), 'ftyp')

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
      const beyond = await web.request(download, {
        headers: { range: `bytes=${output.length}-` },
      })
      assert.equal(beyond.status, 416)

      assert.isNotEmpty(await s3.keys(`tasks/${task.id}/`))
      const removed = await web.submit(`/tasks/${task.id}`, `/tasks/${task.id}/delete`, {})
      assert.equal(removed.status, 302)
      assert.deepEqual(await s3.keys(`tasks/${task.id}/`), [])
    } finally {
      await worker.stop()
      await server.stop()
    }
  }).timeout(120_000)

  test('a resumable (tus) upload in two PATCHes lands in the bucket byte for byte (the tus bytes stay local until then)', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Resumed', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const server = await startServer({
      port: await freePort(),
      databasePath,
      env: s3.appEnv({ LOG_LEVEL: 'warn' }),
    })
    try {
      const web = await logIn(server, user.email)
      const session = { cookie: web.cookieHeader(), csrf: await web.csrfToken(`/tasks/${task.id}`) }
      const meta = { task: task.id, kind: 'video', filename: 'resumed.mp4' }
      const url = await tusCreate(session, video.length, meta, server.baseUrl)
      const half = Math.floor(video.length / 2)
      assert.equal((await tusPatch(session, url, 0, video.subarray(0, half))).status, 204)
      const head = await tus(session, 'HEAD', url)
      assert.equal(head.headers.get('upload-offset'), String(half))
      const last = await tusPatch(session, url, half, video.subarray(half))
      assert.equal(last.status, 204, last.text)

      const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
      assert.equal(input.size, video.length)
      assert.isTrue((await s3.bytes(input.storageKey)).equals(video))
      assert.equal((await tus(session, 'HEAD', url)).status, 404)
    } finally {
      await server.stop()
    }
  }).timeout(60_000)

  test('a store that keeps other bytes than were sent fails the upload and keeps nothing', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Checked', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))

    /* What the issue saw: the SDK's streaming checksums end up inside the object. */
    await s3.client({ requestChecksumCalculation: 'WHEN_SUPPORTED' }).send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: 'probe/framed',
        Body: Readable.from([video]),
        ContentLength: video.length,
      })
    )
    const framed = await s3.bytes('probe/framed')
    assert.notEqual(framed.length, video.length)
    assert.match(framed.subarray(0, 16).toString('latin1'), /^[0-9a-f]+(;|\r\n)/)

    /* The app with those checksums forced on: the check after the put catches it. */
    const server = await startServer({
      port: await freePort(),
      databasePath,
      env: s3.appEnv({ S3_CHECKSUMS: 'when_supported', LOG_LEVEL: 'warn' }),
    })
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      const put = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'clip.mp4')
      assert.equal(put.status, 502)
      const body = (await put.json()) as { error: { code: string; message: string } }
      assert.equal(body.error.code, 'storage_mismatch')
      assert.match(body.error.message, /could not be stored intact/)
      assert.isNull(await TaskInput.query().where('taskId', task.id).first())
      assert.deepEqual(await s3.keys(`tasks/${task.id}/`), [])
    } finally {
      await server.stop()
    }
  }).timeout(60_000)
})
