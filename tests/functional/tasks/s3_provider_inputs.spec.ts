import { test } from '@japa/runner'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { freshState } from '#tests/helpers/db'
import { media } from '#tests/helpers/media'
import { assertHostedRunFetchesFromStore } from '#tests/helpers/object_store_journey'
import { FakeS3Server } from '#tests/fakes/s3_server'
import { FakeSyncServer } from '#tests/fakes/sync_server'

/*
 * DRIVE_DISK=s3 with a hosted provider: the worker (its own process) hands
 * sync.so presigned object-storage URLs, the fake provider downloads the
 * inputs straight from the bucket (the bytes never pass through the app),
 * and the output lands in the bucket.
 */
test.group('Hosted provider with DRIVE_DISK=s3: presigned input URLs', (group) => {
  freshState(group)
  const s3 = new FakeS3Server()
  let fake: FakeSyncServer
  group.setup(async () => {
    await s3.start()
    fake = await new FakeSyncServer(await media('video.mp4')).start()
    return async () => {
      await fake.stop()
      await s3.stop()
    }
  })

  test('the provider fetches both inputs from the bucket with URLs valid for the run’s life', async ({
    assert,
  }) => {
    fake.fetchInputs = true
    await assertHostedRunFetchesFromStore(
      assert,
      s3,
      fake,
      (key, body) =>
        s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body })),
      (urls) => {
        for (const url of urls) {
          assert.equal(url.origin, new URL(s3.url).origin, 'straight from the bucket')
          assert.isAtLeast(Number(url.searchParams.get('X-Amz-Expires')), 6 * 3600)
        }
      }
    )
  }).timeout(120_000)
})
