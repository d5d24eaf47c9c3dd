import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { Storage } from '@google-cloud/storage'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import {
  logIn,
  objectStoreJourney,
  PASSWORD,
  postFile,
  putFile,
  startAppOn,
} from '#tests/helpers/object_store_journey'
import { FakeGcsServer, type GcsRequest } from '#tests/fakes/gcs_server'
import { tus, tusCreate, tusPatch } from '#tests/helpers/tus'

/*
 * DRIVE_DISK=gcs for real: the app (and its worker) run as their own
 * processes with @google-cloud/storage pointed at a local fake of the GCS
 * JSON API (GCS_API_ENDPOINT); every byte is checked in the fake's bucket.
 */

/** Media reads (`alt=media`) of one object, as the fake saw them. */
function mediaReads(gcs: FakeGcsServer, key: string): GcsRequest[] {
  const path = `/storage/v1/b/${gcs.bucket}/o/${encodeURIComponent(key)}`
  return gcs.requests.filter((request) => request.path === path && request.query.alt === 'media')
}

test.group('DRIVE_DISK=gcs against a local fake of the GCS JSON API', (group) => {
  freshState(group)
  const gcs = new FakeGcsServer()
  group.setup(async () => {
    await gcs.start()
    return () => gcs.stop()
  })
  group.each.setup(() => gcs.reset())

  test('upload → launch → result → download with Range → delete, byte for byte', async ({
    assert,
  }) => {
    const { inputs, run, output } = await objectStoreJourney(assert, gcs)

    /* The preview's Range went to GCS as a Range: 1,024 bytes left the store, not the file. */
    const previewReads = mediaReads(gcs, inputs[0].storageKey).filter((read) => read.range)
    assert.deepEqual(
      previewReads.map((read) => [read.range, read.status, read.bytesSent]),
      [['bytes=100-1123', 206, 1024]]
    )
    const tail = `bytes=${output.length - 500}-${output.length - 1}`
    const tailReads = mediaReads(gcs, run.outputKey!).filter((read) => read.range)
    assert.deepEqual(
      tailReads.map((read) => [read.range, read.status, read.bytesSent]),
      [[tail, 206, 500]]
    )
    /* The poster frame: ffmpeg read the result through a V4 signed URL the fake verified. */
    assert.isNotNull(run.posterKey)
    const signed = gcs.requests.filter((request) => 'X-Goog-Signature' in request.query)
    assert.isNotEmpty(signed)
    assert.isTrue(signed.every((request) => request.status === 200 || request.status === 206))
    assert.deepEqual(gcs.signedRefusals, [])
    /* With a custom endpoint the client never asks for an OAuth token. */
    assert.deepEqual(gcs.tokenRequests, [])
  }).timeout(120_000)

  test('a resumable (tus) upload in two PATCHes lands in the bucket byte for byte', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Resumed', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const server = await startAppOn(gcs)
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
      assert.isTrue(gcs.bytes(input.storageKey).equals(video))
      assert.deepEqual(gcs.keys(`tasks/${task.id}/`), [input.storageKey])
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
    const server = await startAppOn(gcs)
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      const cases = [
        /* Caught by the check after the put: the stored size differs. */
        { change: 'truncate', answer: 'sent' },
        /* Same size, one byte flipped: the stored MD5 differs. */
        { change: 'flip', answer: 'sent' },
        /* A truthful answer: the client's own CRC32C check sees it first. */
        { change: 'flip', answer: 'stored' },
      ] as const
      for (const corruption of cases) {
        gcs.corruptNextUpload(corruption)
        const put = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'clip.mp4')
        const label = `${corruption.change}/${corruption.answer}`
        assert.equal(put.status, 502, label)
        const body = (await put.json()) as { error: { code: string; message: string } }
        assert.equal(body.error.code, 'storage_mismatch', label)
        assert.match(body.error.message, /could not be stored intact/)
        assert.isNull(await TaskInput.query().where('taskId', task.id).first())
        assert.deepEqual(gcs.keys(`tasks/${task.id}/`), [], label)
      }
      /* The delete after a mismatch went to the store (the object did exist). */
      const deletes = gcs.requests.filter((r) => r.method === 'DELETE' && r.status === 204)
      assert.lengthOf(deletes, cases.length)
      const logs = server.lines.join('\n')
      assert.match(logs, /sent \d+ bytes, the store has \d+/)
      assert.match(logs, /sent MD5 [0-9a-f]{32}, the store has [0-9a-f]{32}/)
    } finally {
      await server.stop()
    }
  }).timeout(60_000)

  test('a 503 from GCS on upload fails the upload clearly and keeps the previous input', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Flaky store', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const server = await startAppOn(gcs)
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      const first = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'first.mp4')
      assert.equal(first.status, 201, await first.clone().text())
      const before = await TaskInput.query().where('taskId', task.id).firstOrFail()

      gcs.failNextUploads(1)
      const failed = await postFile(
        web,
        csrf,
        `/tasks/${task.id}/inputs/video`,
        video,
        'second.mp4'
      )
      const text = await failed.text()
      assert.equal(failed.status, 503, text)
      assert.notMatch(text, /\.ts:\d+|ApiError|127\.0\.0\.1/)
      const body = JSON.parse(text) as { error: { code: string; message: string } }
      assert.equal(body.error.code, 'storage_unavailable')
      assert.match(body.error.message, /storage service is not available/i)
      /* One attempt (a streamed body is not replayed), and no half input anywhere. */
      const uploads = gcs.requests.filter((r) => r.path.startsWith('/upload/'))
      assert.deepEqual(
        uploads.map((r) => r.status),
        [200, 503]
      )
      const after = await TaskInput.query().where('taskId', task.id).firstOrFail()
      assert.equal(after.storageKey, before.storageKey)
      assert.equal(after.originalName, 'first.mp4')
      assert.deepEqual(gcs.keys(`tasks/${task.id}/`), [before.storageKey])
      assert.isTrue(gcs.bytes(before.storageKey).equals(video))
    } finally {
      await server.stop()
    }
  }).timeout(60_000)

  test('the fake checks V4 signed URLs as GCS does: tampered, other object, expired, missing fields', async ({
    assert,
  }) => {
    gcs.put('probe/clip.mp4', Buffer.from('0123456789'))
    gcs.put('probe/other.mp4', Buffer.from('abcdefghij'))
    const storage = new Storage({ keyFilename: gcs.keyFile, apiEndpoint: gcs.url })
    const file = storage.bucket(gcs.bucket).file('probe/clip.mp4')
    const sign = async (expires: number) =>
      (await file.getSignedUrl({ action: 'read', expires, version: 'v4' }))[0]

    const url = new URL(await sign(Date.now() + 60_000))
    assert.equal(url.origin, gcs.url)
    assert.equal(url.pathname, `/${gcs.bucket}/probe/clip.mp4`)
    const ok = await fetch(url, { headers: { range: 'bytes=2-4' } })
    assert.equal(ok.status, 206)
    assert.equal(await ok.text(), '234')

    const refused = async (target: URL) => {
      const response = await fetch(target)
      return [response.status, /<Code>(\w+)<\/Code>/.exec(await response.text())?.[1]]
    }
    const tampered = new URL(url)
    const signature = tampered.searchParams.get('X-Goog-Signature')!
    tampered.searchParams.set('X-Goog-Signature', `${signature.slice(0, -2)}00`)
    assert.deepEqual(await refused(tampered), [403, 'SignatureDoesNotMatch'])
    const elsewhere = new URL(url)
    elsewhere.pathname = `/${gcs.bucket}/probe/other.mp4`
    assert.deepEqual(await refused(elsewhere), [403, 'SignatureDoesNotMatch'])
    const longer = new URL(url)
    longer.searchParams.set('X-Goog-Expires', '3600')
    assert.deepEqual(await refused(longer), [403, 'SignatureDoesNotMatch'])
    const unsigned = new URL(url)
    unsigned.searchParams.delete('X-Goog-Credential')
    assert.deepEqual(await refused(unsigned), [400, 'InvalidArgument'])

    const shortLived = new URL(await sign(Date.now() + 1500))
    await sleep(2600)
    assert.deepEqual(await refused(shortLived), [400, 'ExpiredToken'])
    assert.deepEqual(gcs.tokenRequests, [])
  }).timeout(30_000)
})
