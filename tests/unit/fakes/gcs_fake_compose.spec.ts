import { test } from '@japa/runner'
import { Storage, type Bucket } from '@google-cloud/storage'
import { crc32c, FakeGcsServer } from '#tests/fakes/gcs_server'

/*
 * The fake's calls behind tus on DRIVE_DISK=gcs, through @google-cloud/storage,
 * pinned to what the Cloud Storage JSON API documents: custom metadata,
 * objects.patch, objects.compose (composite objects: componentCount, crc32c,
 * no md5Hash, at most 32 sources and 1024 components) and objects.rewrite.
 */
async function failure(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    const e = error as { code?: number; message: string }
    return { code: e.code, message: e.message }
  }
  throw new Error('expected the call to fail')
}

test.group('The GCS fake: metadata, compose, rewrite', (group) => {
  const gcs = new FakeGcsServer()
  let bucket: Bucket
  group.setup(async () => {
    await gcs.start()
    /* No retries: a refusal must reach the test as it is. */
    bucket = new Storage({
      apiEndpoint: gcs.url,
      keyFilename: gcs.keyFile,
      retryOptions: { autoRetry: false },
    }).bucket(gcs.bucket)
    return () => gcs.stop()
  })

  test('custom metadata: set on upload, merged by objects.patch, a null value removes a key', async ({
    assert,
  }) => {
    const file = bucket.file('meta/a')
    await file.save(Buffer.from('abc'), {
      resumable: false,
      metadata: { metadata: { size: 3, kept: 'yes', gone: 'soon' } },
    })
    const [saved] = await file.getMetadata()
    assert.deepEqual(saved.metadata, { size: '3', kept: 'yes', gone: 'soon' })
    assert.equal(saved.metageneration, '1')

    const [patched] = await file.setMetadata({ metadata: { gone: null, added: 'new' } })
    assert.deepEqual(patched.metadata, { size: '3', kept: 'yes', added: 'new' })
    assert.equal(patched.metageneration, '2')
    assert.equal(patched.generation, saved.generation)
    assert.equal(patched.md5Hash, saved.md5Hash)

    const missing = await failure(bucket.file('meta/none').setMetadata({ metadata: { a: 'b' } }))
    assert.equal(missing.code, 404)
  })

  test('compose: bytes in order, componentCount summed, crc32c and no md5Hash, properties from the destination', async ({
    assert,
  }) => {
    await bucket.file('c/one').save(Buffer.from('hello '), {
      resumable: false,
      metadata: { metadata: { from: 'source' } },
    })
    await bucket.file('c/two').save(Buffer.from('world'), { resumable: false })
    const [composed] = await bucket.combine(['c/one', 'c/two'], 'c/all')
    const [meta] = await composed.getMetadata()
    assert.isTrue(gcs.bytes('c/all').equals(Buffer.from('hello world')))
    assert.equal(meta.size, '11')
    assert.equal(meta.componentCount, 2)
    assert.equal(meta.crc32c, crc32c(Buffer.from('hello world')))
    assert.notProperty(meta, 'md5Hash')
    /* Custom metadata is not taken from the sources. */
    assert.notProperty(meta, 'metadata')

    /* A composite source counts with its components; composing onto itself replaces it. */
    await bucket.combine(['c/all', 'c/two'], 'c/all')
    const [again] = await bucket.file('c/all').getMetadata()
    assert.equal(again.componentCount, 3)
    assert.isTrue(gcs.bytes('c/all').equals(Buffer.from('hello worldworld')))
    /* A read checks the composite's crc32c (x-goog-hash has no md5 then). */
    const [media] = await bucket.file('c/all').download({ validation: 'crc32c' })
    assert.equal(media.toString(), 'hello worldworld')
  })

  test('compose refusals: a missing source or generation 404, over 32 sources or 1024 components 400, ifGenerationMatch 412', async ({
    assert,
  }) => {
    await bucket.file('r/x').save(Buffer.from('x'), { resumable: false })
    const [x] = await bucket.file('r/x').getMetadata()

    assert.equal((await failure(bucket.combine(['r/x', 'r/none'], 'r/out'))).code, 404)
    const stale = bucket.file('r/x', { generation: Number(x.generation) + 1 })
    assert.equal((await failure(bucket.combine([stale], 'r/out'))).code, 404)
    assert.equal(
      (
        await failure(
          bucket.combine(
            Array.from({ length: 33 }, () => 'r/x'),
            'r/out'
          )
        )
      ).code,
      400
    )
    assert.isFalse((await bucket.file('r/out').exists())[0])

    /* 32 × 1 = 32 components; 31 × 32 + 31 = 1023; one more is over GCS's 1024. */
    await bucket.combine(
      Array.from({ length: 32 }, () => 'r/x'),
      'r/c32'
    )
    const sources = [
      ...Array.from({ length: 31 }, () => 'r/c32'),
      ...Array.from({ length: 1 }, () => 'r/x'),
    ]
    await bucket.combine(sources, 'r/c993')
    const [c993] = await bucket.file('r/c993').getMetadata()
    assert.equal(c993.componentCount, 993)
    await bucket.combine(['r/c993', 'r/c32'], 'r/c1025').then(
      () => assert.fail('compose over 1024 components must fail'),
      (error) => {
        assert.equal(error.code, 400)
        assert.match(error.message, /1024/)
      }
    )
    await bucket.combine(['r/c993', ...Array.from({ length: 31 }, () => 'r/x')], 'r/c1024')
    const [c1024] = await bucket.file('r/c1024').getMetadata()
    assert.equal(c1024.componentCount, 1024)
    assert.equal((await failure(bucket.combine(['r/c1024', 'r/x'], 'r/c1025'))).code, 400)

    const guarded = await failure(
      bucket.combine(['r/x'], 'r/c32', { ifGenerationMatch: Number(x.generation) })
    )
    assert.equal(guarded.code, 412)
  })

  test('rewrite: a byte-for-byte copy keeping the source properties; a composite stays composite', async ({
    assert,
  }) => {
    await bucket.file('w/plain').save(Buffer.from('plain bytes'), {
      resumable: false,
      metadata: { contentType: 'video/mp4', metadata: { a: '1' } },
    })
    await bucket.file('w/plain').copy(bucket.file('w/copy'))
    const [copy] = await bucket.file('w/copy').getMetadata()
    assert.isTrue(gcs.bytes('w/copy').equals(Buffer.from('plain bytes')))
    assert.equal(copy.contentType, 'video/mp4')
    assert.deepEqual(copy.metadata, { a: '1' })
    assert.isString(copy.md5Hash)

    await bucket.combine(['w/plain', 'w/plain'], 'w/composite')
    await bucket.file('w/composite').copy(bucket.file('w/composite-copy'))
    const [composite] = await bucket.file('w/composite-copy').getMetadata()
    assert.equal(composite.componentCount, 2)
    assert.notProperty(composite, 'md5Hash')
    assert.equal(composite.crc32c, crc32c(Buffer.from('plain bytesplain bytes')))

    assert.equal((await failure(bucket.file('w/none').copy(bucket.file('w/x')))).code, 404)
  })
})
