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
  assertHostedRunFetchesFromStore,
  startAppOn,
  tusUploadInTwoPatches,
} from '#tests/helpers/object_store_journey'
import { crc32c, FakeGcsServer, type GcsRequest } from '#tests/fakes/gcs_server'
import { FakeSyncServer } from '#tests/fakes/sync_server'

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
    const { task, input } = await tusUploadInTwoPatches(assert, gcs)
    assert.deepEqual(gcs.keys(`tasks/${task.id}/`), [input.storageKey])
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

  test('a large upload goes to GCS as a resumable upload in chunks and resumes after a 503 mid-chunk', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Large', model: 'restyle' })
    const video = await readFile(await media('video-large.mp4'))
    const server = await startAppOn(gcs)
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      gcs.failNextChunks(1)
      const put = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'large.mp4')
      assert.equal(put.status, 201, await put.clone().text())
      const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
      assert.isTrue(gcs.bytes(input.storageKey).equals(video))

      const session = gcs.requests.filter((r) => r.query.upload_id || r.query.uploadType)
      assert.deepEqual(session[0].query.uploadType, 'resumable')
      const chunks = session.filter((r) => r.contentRange && !r.contentRange.startsWith('bytes */'))
      /* The first chunk got the 503 (part of it persisted); the client asked and resumed from there. */
      assert.equal(chunks[0].status, 503)
      const check = session.find((r) => r.contentRange?.startsWith('bytes */'))
      assert.equal(check?.status, 308)
      const resumedAt = Number(/^bytes (\d+)-/.exec(chunks[1].contentRange!)![1])
      assert.isAbove(resumedAt, 0)
      assert.equal(resumedAt % (256 * 1024), 0)
      assert.equal(chunks.at(-1)!.status, 200)
      assert.match(chunks.at(-1)!.contentRange!, new RegExp(`/${video.length}$`))
      const sent = chunks.reduce((sum, r) => {
        const [, a, b] = /^bytes (\d+)-(\d+)/.exec(r.contentRange!)!
        return sum + Number(b) - Number(a) + 1
      }, 0)
      /* Resent: only the failed chunk's unpersisted part. */
      assert.isBelow(sent, video.length + 8 * 1024 * 1024)

      /* A resumable upload whose stored CRC32C differs: refused, nothing kept, the input unchanged. */
      gcs.corruptNextUpload({ change: 'flip', answer: 'stored' })
      const bad = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'again.mp4')
      assert.equal(bad.status, 502, await bad.clone().text())
      assert.equal(
        ((await bad.json()) as { error: { code: string } }).error.code,
        'storage_mismatch'
      )
      assert.deepEqual(gcs.keys(`tasks/${task.id}/`), [input.storageKey])
      assert.equal(
        (await TaskInput.query().where('taskId', task.id).firstOrFail()).originalName,
        'large.mp4'
      )
    } finally {
      await server.stop()
    }
  }).timeout(60_000)

  test('the fake follows the resumable protocol: 256 KiB steps, declared total, X-Goog-Hash', async ({
    assert,
  }) => {
    const start = async (declared: number) => {
      const response = await fetch(
        `${gcs.url}/upload/storage/v1/b/${gcs.bucket}/o?uploadType=resumable&name=probe%2Fr.bin`,
        {
          method: 'POST',
          headers: {
            'x-upload-content-length': String(declared),
            'content-type': 'application/json',
          },
          body: '{}',
        }
      )
      assert.equal(response.status, 200)
      return response.headers.get('location')!
    }
    const put = (uri: string, contentRange: string, body?: Buffer, headers = {}) =>
      fetch(uri, { method: 'PUT', headers: { 'content-range': contentRange, ...headers }, body })
    const quantum = 256 * 1024
    const data = Buffer.alloc(quantum * 2 + 10, 3)

    const uri = await start(data.length)
    /* Less than 256 KiB of a non-final chunk: nothing persisted, 308 without Range. */
    const small = await put(uri, `bytes 0-9/*`, data.subarray(0, 10))
    assert.equal(small.status, 308)
    assert.isNull(small.headers.get('range'))
    /* 1.5 × 256 KiB: 256 KiB persisted, the Range says so. */
    const partial = await put(
      uri,
      `bytes 0-${quantum * 1.5 - 1}/*`,
      data.subarray(0, quantum * 1.5)
    )
    assert.equal(partial.status, 308)
    assert.equal(partial.headers.get('range'), `bytes=0-${quantum - 1}`)
    /* A gap after the persisted offset, a wrong total, a body shorter than its range: 400. */
    const gap = await put(
      uri,
      `bytes ${quantum * 2}-${quantum * 2 + 9}/${data.length}`,
      data.subarray(0, 10)
    )
    assert.equal(gap.status, 400)
    const wrongTotal = await put(
      uri,
      `bytes ${quantum}-${data.length - 1}/${data.length + 1}`,
      data.subarray(quantum)
    )
    assert.equal(wrongTotal.status, 400)
    const short = await put(
      uri,
      `bytes ${quantum}-${data.length - 1}/${data.length}`,
      data.subarray(quantum + 1)
    )
    assert.equal(short.status, 400)
    /* The final chunk with a wrong X-Goog-Hash is refused; with the right one the object exists. */
    const rest = data.subarray(quantum)
    const badHash = await put(uri, `bytes ${quantum}-${data.length - 1}/${data.length}`, rest, {
      'x-goog-hash': `crc32c=AAAAAA==`,
    })
    assert.equal(badHash.status, 400)
    assert.deepEqual(gcs.keys('probe/r'), [])
    const done = await put(uri, `bytes ${quantum}-${data.length - 1}/${data.length}`, rest, {
      'x-goog-hash': `crc32c=${crc32c(data)}`,
    })
    assert.equal(done.status, 200)
    const resource = (await done.json()) as Record<string, unknown>
    assert.equal(resource.size, String(data.length))
    assert.equal(resource.crc32c, crc32c(data))
    assert.isTrue(gcs.bytes('probe/r.bin').equals(data))
    /* A status query on a finished session answers with the object again. */
    assert.equal((await put(uri, `bytes */${data.length}`)).status, 200)

    const missing = await fetch(`${gcs.url}/storage/v1/b/${gcs.bucket}/o/nope`)
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), {
      error: {
        code: 404,
        message: `No such object: ${gcs.bucket}/nope`,
        errors: [
          { message: `No such object: ${gcs.bucket}/nope`, domain: 'global', reason: 'notFound' },
        ],
      },
    })
  })

  test('a hosted provider fetches both inputs straight from GCS through V4 signed URLs valid for the run’s life', async ({
    assert,
    cleanup,
  }) => {
    const sync = await new FakeSyncServer(await media('video.mp4')).start()
    sync.fetchInputs = true
    cleanup(() => sync.stop())
    await assertHostedRunFetchesFromStore(
      assert,
      gcs,
      sync,
      (key, body) => gcs.put(key, body),
      (urls) => {
        for (const url of urls) {
          assert.equal(url.origin, gcs.url, 'straight from the bucket')
          assert.equal(url.searchParams.get('X-Goog-Algorithm'), 'GOOG4-RSA-SHA256')
          assert.isAtLeast(Number(url.searchParams.get('X-Goog-Expires')), 6 * 3600)
        }
        assert.deepEqual(gcs.signedRefusals, [])
      }
    )
  }).timeout(120_000)

  test('a 503 on a delete is retried: deleting a task leaves none of its files in the bucket', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Gone', model: 'lipsync' })
    const video = await readFile(await media('video.mp4'))
    const audio = await readFile(await media('audio.mp3'))
    const server = await startAppOn(gcs)
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      assert.equal(
        (await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'v.mp4')).status,
        201
      )
      assert.equal(
        (await putFile(web, csrf, `/tasks/${task.id}/inputs/audio`, audio, 'a.mp3')).status,
        201
      )
      assert.lengthOf(gcs.keys(`tasks/${task.id}/`), 2)

      gcs.failNextDeletes(1)
      const removed = await web.submit(`/tasks/${task.id}`, `/tasks/${task.id}/delete`, {})
      assert.equal(removed.status, 302)
      assert.deepEqual(gcs.keys(`tasks/${task.id}/`), [])
      const deletes = gcs.requests.filter((r) => r.method === 'DELETE')
      assert.sameMembers(
        deletes.map((r) => r.status),
        [503, 204, 204]
      )
      /* Deletes run in parallel: the refused one was sent again and done. */
      const done = deletes.filter((r) => r.status === 204).map((r) => r.path)
      assert.include(done, deletes.find((r) => r.status === 503)!.path)
    } finally {
      await server.stop()
    }
  }).timeout(60_000)

  test('GCS dropping the connection mid-read aborts that download only; the app keeps serving', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Cut', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    /* The client never notices the drop by itself: the stall guard fails the read after 1 s. */
    const server = await startAppOn(gcs, { GCS_READ_STALL_SECONDS: '1' })
    try {
      const web = await logIn(server, user.email)
      const csrf = await web.csrfToken(`/tasks/${task.id}`)
      const put = await putFile(web, csrf, `/tasks/${task.id}/inputs/video`, video, 'v.mp4')
      assert.equal(put.status, 201)
      const path = `/tasks/${task.id}/inputs/video`

      for (const range of [undefined, 'bytes=1000-40999']) {
        gcs.cutNextReads(1)
        const response = await web.request(path, range ? { headers: { range } } : {})
        const expected = range ? 40_000 : video.length
        assert.equal(response.headers.get('content-length'), String(expected))
        /* The body ends early (an error, or fewer bytes than announced): never a silent short file. */
        const body = await response.arrayBuffer().then(
          (bytes) => bytes.byteLength,
          () => -1
        )
        assert.notEqual(body, expected, range)
      }
      assert.isNull(server.child.exitCode)
      const whole = await web.request(path)
      assert.isTrue(Buffer.from(await whole.arrayBuffer()).equals(video))
      const part = await web.request(path, { headers: { range: 'bytes=1000-40999' } })
      assert.equal(part.status, 206)
      assert.isTrue(Buffer.from(await part.arrayBuffer()).equals(video.subarray(1000, 41000)))
    } finally {
      await server.stop()
    }
  }).timeout(60_000)
})
