import { test } from '@japa/runner'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Storage } from '@google-cloud/storage'
import { databasePath } from '#config/database'
import ResumableUpload from '#models/resumable_upload'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { crc32c, FakeGcsServer } from '#tests/fakes/gcs_server'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { freePort, startServer, type AppProcess } from '#tests/helpers/app_process'
import { tus, tusCreate, tusPatch, tusPatchCut } from '#tests/helpers/tus'
import {
  assertRefusedFilesKeepTheInput,
  assertWorkerRendersAndSweeps,
  backdateUpload,
  createWithWholeFile,
  idOf,
  offsetOf,
  PASSWORD,
  tusSessionOn,
  watchDisk,
} from '#tests/helpers/tus_bucket'

/*
 * Resumable uploads on DRIVE_DISK=gcs, the production path: the app runs
 * as its own process against the local fake of the GCS JSON API. Each
 * PATCH streams into uploads/<id>_patch, composed onto uploads/<id>; the
 * checks read the object there (ranged reads, ffprobe through a V4 signed
 * URL the fake verifies); nothing of the file touches the app's disk.
 */

/** Media reads of one object through the JSON API, as the fake saw them. */
function mediaReads(gcs: FakeGcsServer, key: string) {
  const path = `/storage/v1/b/${gcs.bucket}/o/${encodeURIComponent(key)}`
  return gcs.requests.filter((request) => request.path === path && request.query.alt === 'media')
}

test.group('Resumable uploads (tus) on DRIVE_DISK=gcs', (group) => {
  freshState(group)
  const gcs = new FakeGcsServer()
  let serverTmp = ''
  let server: AppProcess
  group.setup(async () => {
    await gcs.start()
    serverTmp = await mkdtemp(join(tmpdir(), 'vgen-gcstus-'))
    server = await startServer({
      port: await freePort(),
      databasePath,
      env: gcs.appEnv({ LOG_LEVEL: 'warn', TMPDIR: serverTmp }),
    })
    return async () => {
      await server.stop()
      await gcs.stop()
      await rm(serverTmp, { recursive: true, force: true })
    }
  })
  group.each.setup(() => gcs.reset())

  test('a real video in PATCHes of odd sizes (one cut off, resumed from HEAD) becomes the input byte for byte; nothing on the app disk', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Big', model: 'restyle' })
    const video = await readFile(await media('video-large.mp4'))
    const session = await tusSessionOn(server, user.email, task.id)
    const disk = watchDisk(serverTmp)

    const url = await tusCreate(
      session,
      video.length,
      { task: task.id, kind: 'video', filename: 'big.mp4' },
      server.baseUrl
    )
    const key = `uploads/${idOf(url)}`
    /* Creation: an empty object describing the upload in its custom metadata. */
    const created = gcs.describe(key)!
    assert.equal(created.size, '0')
    assert.equal(created.metadata?.size, String(video.length))

    const first = 3_000_001
    assert.equal((await tusPatch(session, url, 0, video.subarray(0, first))).status, 204)
    assert.equal(await offsetOf(session, url), first)

    /* Cut off part-way: what arrived is composed on, HEAD says where to go on. */
    await tusPatchCut(session, url, first, video.subarray(first, first + 11_000_000), 9_500_000)
    const resumed = await offsetOf(session, url)
    assert.isAbove(resumed, first)
    assert.isAtMost(resumed, first + 9_500_000)

    const third = resumed + 7_777_777
    const patch3 = await tusPatch(session, url, resumed, video.subarray(resumed, third))
    assert.equal(patch3.status, 204, patch3.text)
    assert.equal(await offsetOf(session, url), third)
    /* A composite object: no md5Hash, the CRC32C of the bytes so far, its description kept. */
    const partial = gcs.describe(key)!
    assert.isAtLeast(Number((partial as { componentCount?: number }).componentCount), 3)
    assert.notProperty(partial, 'md5Hash')
    assert.equal(partial.crc32c, crc32c(video.subarray(0, third)))
    assert.equal(partial.metadata?.size, String(video.length))
    assert.deepEqual(gcs.keys(`${key}_patch`), [])

    const last = await tusPatch(session, url, third, video.subarray(third))
    assert.equal(last.status, 204, `${last.text}\n${server.lines.join('\n')}`)
    assert.equal(last.headers.get('upload-offset'), String(video.length))

    const { largest, local } = await disk.stop()
    /* No part buffer, no copy: nothing of the file in the app's temp folder or tmp/uploads. */
    assert.isBelow(largest, 1024 * 1024)
    assert.deepEqual(local, [])
    assert.deepEqual(await readdir(serverTmp), [])

    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.size, video.length)
    assert.equal(input.container, 'mp4')
    assert.isAbove(input.duration, 5)
    assert.match(input.storageKey, new RegExp(`^tasks/${task.id}/inputs/[0-9a-f-]+\\.mp4$`))
    assert.isTrue(gcs.bytes(input.storageKey).equals(video))
    assert.equal(gcs.describe(input.storageKey)!.crc32c, crc32c(video))
    assert.deepEqual(gcs.keys('uploads/'), [])
    assert.isNull(await ResumableUpload.find(idOf(url)))
    assert.equal((await tus(session, 'HEAD', url)).status, 404)

    /* The checks read the object where it was: ranged reads only, ffprobe via a signed URL. */
    const reads = mediaReads(gcs, key)
    assert.isNotEmpty(reads)
    for (const read of reads) {
      assert.isNotNull(read.range)
      assert.isBelow(read.bytesSent, 64 * 1024)
    }
    const signed = gcs.requests.filter(
      (request) => 'X-Goog-Signature' in request.query && request.path.endsWith(`/${key}`)
    )
    assert.isNotEmpty(signed)
    assert.isTrue(
      signed.every((request) => [0, 200, 206].includes(request.status)),
      JSON.stringify(signed.map((request) => [request.status, request.range, request.bytesSent]))
    )
    assert.deepEqual(gcs.signedRefusals, [])
  }).timeout(120_000)

  test('a GCS write failing mid-PATCH leaves the offset where it was; the resend completes', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Flaky', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const session = await tusSessionOn(server, user.email, task.id)
    const url = await tusCreate(
      session,
      video.length,
      { task: task.id, kind: 'video', filename: 'flaky.mp4' },
      server.baseUrl
    )
    const half = 30_001
    assert.equal((await tusPatch(session, url, 0, video.subarray(0, half))).status, 204)
    gcs.failNextUploads(1)
    const failed = await tusPatch(session, url, half, video.subarray(half))
    assert.equal(failed.status, 503, failed.text)
    assert.equal(failed.json().error.code, 'storage_unavailable')
    assert.equal(await offsetOf(session, url), half)
    assert.deepEqual(gcs.keys(`uploads/${idOf(url)}`), [`uploads/${idOf(url)}`])

    const resent = await tusPatch(session, url, half, video.subarray(half))
    assert.equal(resent.status, 204, resent.text)
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.isTrue(gcs.bytes(input.storageKey).equals(video))
    assert.deepEqual(gcs.keys('uploads/'), [])
  }).timeout(60_000)

  test('a refused file (text named .mp4, a truncated mp4) answers 4xx with the reason, leaves no object, keeps the previous input', async ({
    assert,
  }) => {
    await assertRefusedFilesKeepTheInput(assert, server, gcs)
  }).timeout(60_000)

  test('creation-with-upload, the extensions offered, and termination (DELETE) removing every object', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'One request', model: 'restyle' })
    const other = await taskService.create(user.id, { name: 'Cancelled', model: 'restyle' })
    const session = await tusSessionOn(server, user.email, task.id)
    const { video } = await createWithWholeFile(assert, server, session, task.id)
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.isTrue(gcs.bytes(input.storageKey).equals(video))
    assert.deepEqual(gcs.keys('uploads/'), [])

    const url = await tusCreate(
      session,
      video.length,
      { task: other.id, kind: 'video', filename: 'cancel.mp4' },
      server.baseUrl
    )
    const patched = await tusPatch(session, url, 0, video.subarray(0, 20_000))
    assert.equal(patched.status, 204)
    assert.match(patched.headers.get('upload-expires') ?? '', /GMT$/)
    assert.deepEqual(gcs.keys('uploads/'), [`uploads/${idOf(url)}`])
    const deleted = await tus(session, 'DELETE', url)
    assert.equal(deleted.status, 204, deleted.text)
    assert.deepEqual(gcs.keys('uploads/'), [])
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.isNull(await ResumableUpload.find(idOf(url)))
    assert.equal((await tus(session, 'HEAD', url)).status, 404)
    assert.isNull(await TaskInput.query().where('taskId', other.id).first())
  }).timeout(60_000)

  test('the worker: an upload abandoned for 24 h is swept (row and objects); a tus upload launches and renders', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD, balance: 5000 })
    const task = await taskService.create(user.id, { name: 'Rendered', model: 'restyle' })
    const other = await taskService.create(user.id, { name: 'Other', model: 'restyle' })
    const session = await tusSessionOn(server, user.email, task.id)
    const video = await readFile(await media('video.mp4'))

    const done = await tusCreate(
      session,
      video.length,
      { task: task.id, kind: 'video', filename: 'clip.mp4' },
      server.baseUrl
    )
    assert.equal((await tusPatch(session, done, 0, video.subarray(0, 12_345))).status, 204)
    assert.equal((await tusPatch(session, done, 12_345, video.subarray(12_345))).status, 204)

    const abandoned = await tusCreate(
      session,
      video.length,
      { task: other.id, kind: 'video', filename: 'left.mp4' },
      server.baseUrl
    )
    const id = idOf(abandoned)
    assert.equal((await tusPatch(session, abandoned, 0, video.subarray(0, 5000))).status, 204)
    await backdateUpload(id)
    const fresh = await tusCreate(
      session,
      video.length,
      { task: other.id, kind: 'video', filename: 'fresh.mp4' },
      server.baseUrl
    )
    assert.equal((await tusPatch(session, fresh, 0, video.subarray(0, 1000))).status, 204)

    const workerEnv = gcs.appEnv({ WORKER_POLL_MS: '50', LOG_LEVEL: 'warn' })
    await assertWorkerRendersAndSweeps(
      assert,
      { server, bucket: gcs, workerEnv, user, task, abandonedId: id },
      async () => {
        assert.deepEqual(gcs.keys('uploads/'), [`uploads/${idOf(fresh)}`])
        assert.isNotNull(await ResumableUpload.find(idOf(fresh)))
        assert.equal((await tus(session, 'DELETE', fresh)).status, 204)
        assert.deepEqual(gcs.keys('uploads/'), [])
      }
    )
  }).timeout(120_000)

  test('completion interrupted by a crash (every byte in, no input): HEAD asks for the last byte, its PATCH completes', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Crashed', model: 'restyle' })
    const session = await tusSessionOn(server, user.email, task.id)
    const video = await readFile(await media('video.mp4'))
    const url = await tusCreate(
      session,
      video.length,
      { task: task.id, kind: 'video', filename: 'crashed.mp4' },
      server.baseUrl
    )
    const key = `uploads/${idOf(url)}`
    assert.equal((await tusPatch(session, url, 0, video.subarray(0, -1))).status, 204)

    /* What a process killed inside the final PATCH leaves: the last byte composed on, no input. */
    const bucket = new Storage({ apiEndpoint: gcs.url, keyFilename: gcs.keyFile }).bucket(
      gcs.bucket
    )
    const [meta] = await bucket.file(key).getMetadata()
    await bucket.file(`${key}_patch`).save(video.subarray(-1), { resumable: false })
    await bucket.combine([bucket.file(key), bucket.file(`${key}_patch`)], bucket.file(key))
    await bucket.file(key).setMetadata({ metadata: meta.metadata })
    await bucket.file(`${key}_patch`).delete()
    assert.equal(gcs.describe(key)!.size, String(video.length))

    const asked = await tus(session, 'HEAD', url)
    assert.equal(asked.status, 200)
    assert.equal(asked.headers.get('upload-offset'), String(video.length - 1))

    const last = await tusPatch(session, url, video.length - 1, video.subarray(-1))
    assert.equal(last.status, 204, last.text)
    assert.equal(last.headers.get('upload-offset'), String(video.length))
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.isTrue(gcs.bytes(input.storageKey).equals(video))
    assert.deepEqual(gcs.keys('uploads/'), [])
    assert.equal((await tus(session, 'HEAD', url)).status, 404)
  }).timeout(60_000)

  test('an upload at the 1024 components GCS allows refuses the next PATCH with 409 and a message; DELETE still cleans up', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Resumed often', model: 'restyle' })
    const session = await tusSessionOn(server, user.email, task.id)
    const video = await readFile(await media('video.mp4'))
    const url = await tusCreate(
      session,
      video.length,
      { task: task.id, kind: 'video', filename: 'often.mp4' },
      server.baseUrl
    )
    const key = `uploads/${idOf(url)}`
    assert.equal((await tusPatch(session, url, 0, video.subarray(0, 1))).status, 204)
    assert.equal((gcs.describe(key) as { componentCount?: number }).componentCount, 2)

    /* 1022 more components (what ~1000 resumed PATCHes leave), through GCS's own calls. */
    const bucket = new Storage({ apiEndpoint: gcs.url, keyFilename: gcs.keyFile }).bucket(
      gcs.bucket
    )
    const [meta] = await bucket.file(key).getMetadata()
    await bucket.file('scratch/x').save(Buffer.from('x'), { resumable: false })
    await bucket.combine(
      Array.from({ length: 32 }, () => 'scratch/x'),
      'scratch/c32'
    )
    await bucket.combine(
      Array.from({ length: 30 }, () => 'scratch/x'),
      'scratch/c30'
    )
    /* 31 × 32 + 30 = 1022 components in 32 sources (compose takes at most 32). */
    await bucket.combine(
      [...Array.from({ length: 31 }, () => 'scratch/c32'), 'scratch/c30'],
      'scratch/c1022'
    )
    await bucket.combine([key, 'scratch/c1022'], key)
    await bucket.file(key).setMetadata({ metadata: meta.metadata })
    await bucket.deleteFiles({ prefix: 'scratch/' })
    const stored = gcs.describe(key) as { componentCount?: number; size: string }
    assert.equal(stored.componentCount, 1024)
    const offset = Number(stored.size)
    assert.equal(await offsetOf(session, url), offset)

    const refused = await tusPatch(session, url, offset, video.subarray(offset))
    assert.equal(refused.status, 409, refused.text)
    assert.match(refused.json().error.message, /interrupted too many times/)
    assert.equal(await offsetOf(session, url), offset)
    assert.deepEqual(gcs.keys('uploads/'), [key])

    assert.equal((await tus(session, 'DELETE', url)).status, 204)
    assert.deepEqual(gcs.keys('uploads/'), [])
    assert.deepEqual(gcs.keys('scratch/'), [])
  }).timeout(60_000)

  test('a store that keeps other bytes than were sent fails the PATCH with 502 and keeps nothing', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Corrupt', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const session = await tusSessionOn(server, user.email, task.id)
    const cases = [
      /* The patch stored with a byte flipped: the composed object's CRC32C differs... */
      { change: 'flip', answer: 'stored' },
      /* ...also when the store answered the patch upload with the hashes of what was sent; */
      { change: 'flip', answer: 'sent' },
      /* a truncated patch: the composed object's size differs. */
      { change: 'truncate', answer: 'sent' },
    ] as const
    for (const corruption of cases) {
      const label = `${corruption.change}/${corruption.answer}`
      const url = await tusCreate(
        session,
        video.length,
        { task: task.id, kind: 'video', filename: 'clip.mp4' },
        server.baseUrl
      )
      assert.equal((await tusPatch(session, url, 0, video.subarray(0, 7000))).status, 204)
      gcs.corruptNextUpload(corruption)
      const answer = await tusPatch(session, url, 7000, video.subarray(7000, 30_000))
      assert.equal(answer.status, 502, `${label}: ${answer.text}`)
      assert.equal(answer.json().error.code, 'storage_mismatch')
      assert.match(answer.json().error.message, /could not be stored intact/)
      assert.deepEqual(gcs.keys('uploads/'), [], label)
      assert.isNull(await ResumableUpload.find(idOf(url)), label)
      assert.equal((await tus(session, 'HEAD', url)).status, 404, label)
    }
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())
  }).timeout(60_000)
})
