import { test } from '@japa/runner'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { databasePath } from '#config/database'
import ResumableUpload from '#models/resumable_upload'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { PART_SIZE } from '#services/uploads/bucket_store'
import { FakeS3Server } from '#tests/fakes/s3_server'
import { MIN_PART_SIZE } from '#tests/fakes/s3_multipart'
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
  PASSWORD,
  tusSessionOn,
  watchDisk,
} from '#tests/helpers/tus_bucket'

/*
 * Resumable uploads on DRIVE_DISK=s3, the production path: the app runs as
 * its own process against the local S3 fake (s3rver plus ListParts / Abort /
 * S3's completion checks). The bytes go into the bucket as a multipart
 * upload under uploads/; the checks read the object there (ranged GETs,
 * ffprobe through a presigned URL); nothing of the file rests on the app's
 * disk but one part buffer in its temp folder.
 */
/** The S3 multipart upload id behind a tus upload (kept in its .info object's metadata). */
async function multipartIdOf(s3: FakeS3Server, id: string) {
  const info = await s3
    .client()
    .send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `uploads/${id}.info` }))
  return info.Metadata!['upload-id']
}

async function listParts(s3: FakeS3Server, id: string, uploadId: string) {
  try {
    const listed = await s3
      .client()
      .send(new ListPartsCommand({ Bucket: s3.bucket, Key: `uploads/${id}`, UploadId: uploadId }))
    return listed.Parts ?? []
  } catch (error) {
    return (error as Error).name
  }
}

test.group('Resumable uploads (tus) on DRIVE_DISK=s3', (group) => {
  freshState(group)
  const s3 = new FakeS3Server()
  let serverTmp = ''
  let server: AppProcess
  group.setup(async () => {
    await s3.start()
    serverTmp = await mkdtemp(join(tmpdir(), 'vgen-s3tus-'))
    server = await startServer({
      port: await freePort(),
      databasePath,
      env: s3.appEnv({ LOG_LEVEL: 'warn', TMPDIR: serverTmp }),
    })
    return async () => {
      await server.stop()
      await s3.stop()
      await rm(serverTmp, { recursive: true, force: true })
    }
  })

  test('a real video in several PATCHes (one cut off, resumed from HEAD) lands in the bucket byte for byte; the app disk holds at most a part', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Big', model: 'restyle' })
    const video = await readFile(await media('video-large.mp4'))
    assert.isAbove(video.length, 2 * PART_SIZE + MIN_PART_SIZE)
    const tusSession = await tusSessionOn(server, user.email, task.id)
    const disk = watchDisk(serverTmp)

    const url = await tusCreate(
      tusSession,
      video.length,
      { task: task.id, kind: 'video', filename: 'big.mp4' },
      server.baseUrl
    )
    const id = idOf(url)
    const uploadId = await multipartIdOf(s3, id)
    const offsetNow = async () =>
      Number((await tus(tusSession, 'HEAD', url)).headers.get('upload-offset'))

    /* Under 5 MiB: kept as the leftover piece, no part yet. */
    const first = 3_000_001
    assert.equal((await tusPatch(tusSession, url, 0, video.subarray(0, first))).status, 204)
    assert.equal(await offsetNow(), first)
    assert.deepEqual(await listParts(s3, id, uploadId), [])

    /* Cut off part-way through 11 MB: what arrived is kept, HEAD says where to go on. */
    await tusPatchCut(tusSession, url, first, video.subarray(first, first + 11_000_000), 9_500_000)
    const resumed = await offsetNow()
    assert.isAbove(resumed, first)
    assert.isAtMost(resumed, first + 9_500_000)

    const third = resumed + 7_777_777
    const patch3 = await tusPatch(tusSession, url, resumed, video.subarray(resumed, third))
    assert.equal(patch3.status, 204, patch3.text)
    assert.equal(await offsetNow(), third)
    const parts = await listParts(s3, id, uploadId)
    assert.isArray(parts)
    assert.isAtLeast(parts.length, 1)
    for (const part of parts as { Size?: number }[]) assert.isAtLeast(part.Size!, MIN_PART_SIZE)

    const last = await tusPatch(tusSession, url, third, video.subarray(third))
    assert.equal(last.status, 204, `${last.text}\n${server.lines.join('\n')}`)
    assert.equal(last.headers.get('upload-offset'), String(video.length))

    const { largest, local } = await disk.stop()
    /* The part buffer was seen (the watch works) and never grew past a part. */
    assert.isAbove(largest, 0)
    assert.isAtMost(largest, PART_SIZE)
    assert.deepEqual(local, [])

    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.size, video.length)
    assert.equal(input.container, 'mp4')
    assert.isAbove(input.duration, 5)
    assert.match(input.storageKey, new RegExp(`^tasks/${task.id}/inputs/[0-9a-f-]+\\.mp4$`))
    assert.isTrue((await s3.bytes(input.storageKey)).equals(video))
    /* The tus objects are gone, and so is the multipart upload. */
    assert.deepEqual(await s3.keys('uploads/'), [])
    assert.equal(await listParts(s3, id, uploadId), 'NoSuchUpload')
    assert.isNull(await ResumableUpload.find(id))
    assert.equal((await tus(tusSession, 'HEAD', url)).status, 404)
    assert.deepEqual(await readdir(serverTmp), [])
  }).timeout(120_000)

  test('PATCHes cut at many points (inside the leftover, across a part boundary, after 1 byte) resume from HEAD; no part buffer is left in the temp folder', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Choppy', model: 'restyle' })
    const video = await readFile(await media('video-large.mp4'))
    const tusSession = await tusSessionOn(server, user.email, task.id)
    const url = await tusCreate(
      tusSession,
      video.length,
      { task: task.id, kind: 'video', filename: 'choppy.mp4' },
      server.baseUrl
    )
    const offsetNow = async () =>
      Number((await tus(tusSession, 'HEAD', url)).headers.get('upload-offset'))

    let offset = 0
    for (const sendBytes of [1, 100_000, 6_000_000, 9_000_000, 3_000_000, 12_000_000]) {
      const body = video.subarray(offset, Math.min(video.length, offset + 13_000_000))
      await tusPatchCut(tusSession, url, offset, body, Math.min(sendBytes, body.length - 1))
      const now = await offsetNow()
      assert.isAtLeast(now, offset, `after cutting at ${sendBytes}`)
      assert.isBelow(now, video.length)
      offset = now
    }
    /* Cut connections keep what arrived: the cuts above moved the offset on. */
    assert.isAbove(offset, 10_000_000)
    const last = await tusPatch(tusSession, url, offset, video.subarray(offset))
    assert.equal(last.status, 204, last.text)
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.isTrue((await s3.bytes(input.storageKey)).equals(video))
    assert.deepEqual(await s3.keys(`uploads/${idOf(url)}`), [])
    assert.deepEqual(await readdir(serverTmp), [])
  }).timeout(120_000)

  test('a refused file (text named .mp4, a truncated mp4) answers 4xx with the reason, leaves no object, keeps the previous input', async ({
    assert,
  }) => {
    await assertRefusedFilesKeepTheInput(assert, server, s3)
  }).timeout(60_000)

  test('creation-with-upload: the whole file in the POST; no deferred length advertised', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'One request', model: 'restyle' })
    const tusSession = await tusSessionOn(server, user.email, task.id)
    const { created, video } = await createWithWholeFile(assert, server, tusSession, task.id)
    assert.isNull(created.headers.get('upload-expires'))
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.isTrue((await s3.bytes(input.storageKey)).equals(video))
    assert.deepEqual(await s3.keys(`uploads/${idOf(created.headers.get('location')!)}`), [])
  }).timeout(60_000)

  test('termination (DELETE) aborts the multipart upload and deletes every object', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Cancelled', model: 'restyle' })
    const tusSession = await tusSessionOn(server, user.email, task.id)
    const video = await readFile(await media('video-large.mp4'))
    const url = await tusCreate(
      tusSession,
      video.length,
      { task: task.id, kind: 'video', filename: 'big.mp4' },
      server.baseUrl
    )
    const id = idOf(url)
    const uploadId = await multipartIdOf(s3, id)
    /* One full part and a leftover piece. */
    const sent = PART_SIZE + 1_234_567
    assert.equal((await tusPatch(tusSession, url, 0, video.subarray(0, sent))).status, 204)
    assert.lengthOf(await listParts(s3, id, uploadId), 1)
    assert.includeMembers(await s3.keys('uploads/'), [`uploads/${id}.info`, `uploads/${id}.part`])

    const deleted = await tus(tusSession, 'DELETE', url)
    assert.equal(deleted.status, 204, deleted.text)
    assert.equal(await listParts(s3, id, uploadId), 'NoSuchUpload')
    assert.deepEqual(await s3.keys('uploads/'), [])
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.isNull(await ResumableUpload.find(id))
    assert.equal((await tus(tusSession, 'HEAD', url)).status, 404)
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())
  }).timeout(60_000)

  test('the worker: an upload abandoned for 24 h is swept (rows and objects); a tus upload launches and renders', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD, balance: 5000 })
    const task = await taskService.create(user.id, { name: 'Rendered', model: 'restyle' })
    const other = await taskService.create(user.id, { name: 'Other', model: 'restyle' })
    const tusSession = await tusSessionOn(server, user.email, task.id)
    const video = await readFile(await media('video.mp4'))

    const done = await tusCreate(
      tusSession,
      video.length,
      { task: task.id, kind: 'video', filename: 'clip.mp4' },
      server.baseUrl
    )
    assert.equal((await tusPatch(tusSession, done, 0, video)).status, 204)

    /* Abandoned: a part and a leftover in the bucket, created 25 h ago (row and .info). */
    const large = await readFile(await media('video-large.mp4'))
    const abandoned = await tusCreate(
      tusSession,
      large.length,
      { task: other.id, kind: 'video', filename: 'left.mp4' },
      server.baseUrl
    )
    const id = idOf(abandoned)
    const uploadId = await multipartIdOf(s3, id)
    const sent = PART_SIZE + 4096
    assert.equal((await tusPatch(tusSession, abandoned, 0, large.subarray(0, sent))).status, 204)
    const past = await backdateUpload(id)
    const infoKey = `uploads/${id}.info`
    const info = await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: infoKey }))
    const stored = JSON.parse((await s3.bytes(infoKey)).toString('utf8'))
    await s3.client().send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: infoKey,
        Body: JSON.stringify({ ...stored, creation_date: past.toISOString() }),
        Metadata: info.Metadata,
      })
    )
    /* A fresh unfinished upload is left alone. */
    const fresh = await tusCreate(
      tusSession,
      large.length,
      { task: other.id, kind: 'video', filename: 'fresh.mp4' },
      server.baseUrl
    )
    assert.equal((await tusPatch(tusSession, fresh, 0, large.subarray(0, 1000))).status, 204)

    const workerEnv = s3.appEnv({ WORKER_POLL_MS: '50', LOG_LEVEL: 'warn' })
    await assertWorkerRendersAndSweeps(
      assert,
      { server, bucket: s3, workerEnv, user, task, abandonedId: id },
      async () => {
        assert.equal(await listParts(s3, id, uploadId), 'NoSuchUpload')
        const left = await s3.keys('uploads/')
        assert.deepEqual(
          left.filter((key) => key.includes(id)),
          []
        )
        assert.includeMembers(left, [`uploads/${idOf(fresh)}.info`])
        assert.isNotNull(await ResumableUpload.find(idOf(fresh)))
        assert.equal((await tus(tusSession, 'DELETE', fresh)).status, 204)
        assert.deepEqual(await s3.keys('uploads/'), [])
      }
    )
  }).timeout(120_000)

  test('completion interrupted by a crash (all parts in, or the multipart upload completed, but no input): HEAD asks for the last byte, its PATCH completes', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Crashed', model: 'restyle' })
    const tusSession = await tusSessionOn(server, user.email, task.id)
    const video = await readFile(await media('video.mp4'))
    const client = s3.client()

    for (const state of ['parts uploaded', 'multipart completed']) {
      const url = await tusCreate(
        tusSession,
        video.length,
        { task: task.id, kind: 'video', filename: 'crashed.mp4' },
        server.baseUrl
      )
      const id = idOf(url)
      const uploadId = await multipartIdOf(s3, id)
      const key = `uploads/${id}`
      const head = video.subarray(0, video.length - 1)
      assert.equal((await tusPatch(tusSession, url, 0, head)).status, 204)

      /* What a process killed inside the final PATCH leaves in the bucket. */
      const part = await client.send(
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: 1,
          Body: video,
          ContentLength: video.length,
        })
      )
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${key}.part` }))
      if (state === 'multipart completed') {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: s3.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          })
        )
      }

      const asked = await tus(tusSession, 'HEAD', url)
      assert.equal(asked.status, 200, state)
      assert.equal(asked.headers.get('upload-offset'), String(video.length - 1), state)

      const last = await tusPatch(tusSession, url, video.length - 1, video.subarray(-1))
      assert.equal(last.status, 204, `${state}: ${last.text}`)
      assert.equal(last.headers.get('upload-offset'), String(video.length))
      const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
      assert.isTrue((await s3.bytes(input.storageKey)).equals(video), state)
      assert.deepEqual(await s3.keys(key), [], state)
      assert.equal(await listParts(s3, id, uploadId), 'NoSuchUpload')
      assert.equal((await tus(tusSession, 'HEAD', url)).status, 404)
    }
  }).timeout(60_000)

  test('a store that keeps other bytes than were sent (aws-chunked framing) fails the PATCH with 502 and keeps nothing', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const task = await taskService.create(user.id, { name: 'Corrupt', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const framing = await startServer({
      port: await freePort(),
      databasePath,
      env: s3.appEnv({ S3_CHECKSUMS: 'when_supported', LOG_LEVEL: 'fatal' }),
    })
    try {
      const tusSession = await tusSessionOn(framing, user.email, task.id)
      const url = await tusCreate(
        tusSession,
        video.length,
        { task: task.id, kind: 'video', filename: 'clip.mp4' },
        framing.baseUrl
      )
      const answer = await tusPatch(tusSession, url, 0, video.subarray(0, 5000))
      assert.equal(answer.status, 502, answer.text)
      assert.equal(answer.json().error.code, 'storage_mismatch')
      assert.match(answer.json().error.message, /could not be stored intact/)
      assert.deepEqual(await s3.keys(`uploads/${idOf(url)}`), [])
      assert.isNull(await ResumableUpload.find(idOf(url)))
      assert.isNull(await TaskInput.query().where('taskId', task.id).first())
    } finally {
      await framing.stop()
    }
  }).timeout(60_000)
})
