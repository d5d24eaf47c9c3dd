import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { Readable } from 'node:stream'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import {
  logIn,
  objectStoreJourney,
  PASSWORD,
  putFile,
  startAppOn,
  tusUploadInTwoPatches,
} from '#tests/helpers/object_store_journey'
import { FakeS3Server } from '#tests/fakes/s3_server'

/*
 * DRIVE_DISK=s3 for real: the app runs as its own process (with the worker
 * in-process) against a local S3-compatible server, and every byte is
 * checked in the bucket itself.
 */
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
    await objectStoreJourney(assert, s3)
  }).timeout(120_000)

  test('a resumable (tus) upload in two PATCHes lands in the bucket byte for byte (multipart: tests/functional/uploads/tus_s3.spec.ts)', async ({
    assert,
  }) => {
    await tusUploadInTwoPatches(assert, s3)
    assert.deepEqual(await s3.keys('uploads/'), [])
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
    const server = await startAppOn(s3, { S3_CHECKSUMS: 'when_supported' })
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
