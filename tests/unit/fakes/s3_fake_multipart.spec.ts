import { test } from '@japa/runner'
import { createHash, randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { FakeS3Server } from '#tests/fakes/s3_server'
import { MIN_PART_SIZE } from '#tests/fakes/s3_multipart'

/*
 * The fake's multipart calls, through the AWS SDK, pinned to the shapes the
 * S3 API reference documents (ListParts, AbortMultipartUpload,
 * CompleteMultipartUpload): what @tus/s3-store relies on.
 */
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex')

async function failure(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    const e = error as { name: string; $metadata?: { httpStatusCode?: number } }
    return { name: e.name, status: e.$metadata?.httpStatusCode }
  }
  throw new Error('expected the call to fail')
}

async function startUpload(client: S3Client, bucket: string, key: string) {
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
  return created.UploadId!
}

async function putPart(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  number: number,
  body: Buffer
) {
  const part = await client.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: number,
      Body: body,
      ContentLength: body.length,
    })
  )
  return part.ETag!
}

test.group('S3 fake / multipart calls s3rver lacks', (group) => {
  const s3 = new FakeS3Server()
  group.setup(async () => {
    await s3.start()
    return () => s3.stop()
  })

  test('ListParts: documented fields, pages with max-parts and part-number-marker', async ({
    assert,
  }) => {
    const client = s3.client()
    const key = 'multipart/listed'
    const uploadId = await startUpload(client, s3.bucket, key)
    const bodies = [randomBytes(1000), randomBytes(2000), randomBytes(3000)]
    for (const [index, body] of bodies.entries())
      await putPart(client, s3.bucket, key, uploadId, index + 1, body)

    const all = await client.send(
      new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })
    )
    assert.equal(all.Bucket, s3.bucket)
    assert.equal(all.Key, key)
    assert.equal(all.UploadId, uploadId)
    assert.isFalse(all.IsTruncated)
    assert.equal(all.MaxParts, 1000)
    assert.deepEqual(
      all.Parts!.map((part) => [part.PartNumber, part.Size, part.ETag]),
      bodies.map((body, index) => [index + 1, body.length, `"${md5(body)}"`])
    )
    assert.instanceOf(all.Parts![0].LastModified, Date)
    assert.isBelow(Math.abs(all.Parts![0].LastModified!.getTime() - Date.now()), 60_000)

    const first = await client.send(
      new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, MaxParts: 2 })
    )
    assert.isTrue(first.IsTruncated)
    assert.equal(first.MaxParts, 2)
    assert.equal(first.NextPartNumberMarker, '2')
    assert.deepEqual(
      first.Parts!.map((part) => part.PartNumber),
      [1, 2]
    )
    const rest = await client.send(
      new ListPartsCommand({
        Bucket: s3.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumberMarker: first.NextPartNumberMarker,
      })
    )
    assert.isFalse(rest.IsTruncated)
    assert.equal(rest.PartNumberMarker, '2')
    assert.deepEqual(
      rest.Parts!.map((part) => part.PartNumber),
      [3]
    )

    /* Another key, or an id that never existed: NoSuchUpload (404). */
    assert.deepEqual(
      await failure(
        client.send(
          new ListPartsCommand({ Bucket: s3.bucket, Key: 'multipart/other', UploadId: uploadId })
        )
      ),
      { name: 'NoSuchUpload', status: 404 }
    )
    assert.deepEqual(
      await failure(
        client.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: 'deadbeef' }))
      ),
      { name: 'NoSuchUpload', status: 404 }
    )
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })
    )
  })

  test('AbortMultipartUpload: 204, parts gone, the id is then unknown to every call', async ({
    assert,
  }) => {
    const client = s3.client()
    const key = 'multipart/aborted'
    const uploadId = await startUpload(client, s3.bucket, key)
    await putPart(client, s3.bucket, key, uploadId, 1, randomBytes(500))

    const aborted = await client.send(
      new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })
    )
    assert.equal(aborted.$metadata.httpStatusCode, 204)
    const list = () =>
      client.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }))
    assert.deepEqual(await failure(list()), { name: 'NoSuchUpload', status: 404 })
    assert.deepEqual(await failure(putPart(client, s3.bucket, key, uploadId, 2, randomBytes(10))), {
      name: 'NoSuchUpload',
      status: 404,
    })
    assert.deepEqual(
      await failure(
        client.send(
          new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })
        )
      ),
      { name: 'NoSuchUpload', status: 404 }
    )
    assert.deepEqual(await s3.keys('multipart/aborted'), [])
  })

  test('CompleteMultipartUpload: EntityTooSmall for a small non-final part, multipart ETag, then NoSuchUpload', async ({
    assert,
  }) => {
    const client = s3.client()
    const key = 'multipart/completed'
    const uploadId = await startUpload(client, s3.bucket, key)
    const small = randomBytes(1024)
    const big = randomBytes(MIN_PART_SIZE)
    const tail = randomBytes(77)
    const smallTag = await putPart(client, s3.bucket, key, uploadId, 1, small)
    const complete = (parts: { PartNumber: number; ETag: string }[]) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: s3.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        })
      )
    const tailTag = await putPart(client, s3.bucket, key, uploadId, 2, tail)
    assert.deepEqual(
      await failure(
        complete([
          { PartNumber: 1, ETag: smallTag },
          { PartNumber: 2, ETag: tailTag },
        ])
      ),
      { name: 'EntityTooSmall', status: 400 }
    )
    /* Parts can be replaced; a wrong ETag or a missing part is InvalidPart. */
    const bigTag = await putPart(client, s3.bucket, key, uploadId, 1, big)
    assert.deepEqual(
      await failure(
        complete([
          { PartNumber: 1, ETag: smallTag },
          { PartNumber: 2, ETag: tailTag },
        ])
      ),
      { name: 'InvalidPart', status: 400 }
    )
    assert.deepEqual(
      await failure(
        complete([
          { PartNumber: 2, ETag: tailTag },
          { PartNumber: 1, ETag: bigTag },
        ])
      ),
      { name: 'InvalidPartOrder', status: 400 }
    )

    const done = await complete([
      { PartNumber: 1, ETag: bigTag },
      { PartNumber: 2, ETag: tailTag },
    ])
    const expected = `${createHash('md5')
      .update(Buffer.concat([Buffer.from(md5(big), 'hex'), Buffer.from(md5(tail), 'hex')]))
      .digest('hex')}-2`
    assert.equal(done.ETag, `"${expected}"`)
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }))
    assert.equal(head.ETag, `"${expected}"`)
    assert.equal(head.ContentLength, big.length + tail.length)
    assert.isTrue((await s3.bytes(key)).equals(Buffer.concat([big, tail])))
    assert.deepEqual(
      await failure(
        client.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }))
      ),
      { name: 'NoSuchUpload', status: 404 }
    )
  }).timeout(30_000)

  test('the added calls are authenticated like the rest', async ({ assert }) => {
    const key = 'multipart/signed'
    const uploadId = await startUpload(s3.client(), s3.bucket, key)
    /* s3rver checks the access key of a V4 request (not its signature): an unknown key is 403. */
    const stranger = s3.client({
      credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'wrong' },
    })
    const denied = await failure(
      stranger.send(new ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }))
    )
    assert.equal(denied.status, 403)
    const abort = await failure(
      stranger.send(
        new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId })
      )
    )
    assert.equal(abort.status, 403)
    await s3
      .client()
      .send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }))
  })
})
