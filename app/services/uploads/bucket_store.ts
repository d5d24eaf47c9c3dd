import { createHash } from 'node:crypto'
import { createReadStream, type ReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { S3Store, type MetadataValue } from '@tus/s3-store'
import type { Upload } from '@tus/server'
import logger from '@adonisjs/core/services/logger'
import { StoredFileMismatch } from '#integrations/storage/stored_file_check'
import { youngGcPassThrough } from '#services/tasks/young_gc'
import { lastByteMissing } from '#services/uploads/finishing'
import { UploadNotStoredException } from '#exceptions/task_exceptions'

/*
 * @tus/s3-store with what this app needs on top:
 *   - every key under KEY_PREFIX (the store itself writes `<id>`,
 *     `<id>.info` and `<id>.part` at the bucket's root): an SDK middleware on
 *     the store's own client prefixes each request's Key, so operators can
 *     put a lifecycle rule on that prefix;
 *   - every part and leftover piece sent with its Content-MD5 and its stored
 *     ETag compared with the MD5 of what was sent, and the completed object
 *     checked (size, multipart ETag) like every other put;
 *   - the two completion subtleties (finishing.ts);
 *   - remove() that also deletes the leftover piece and tolerates an upload
 *     already completed or half removed (the store's own throws then).
 */

/** Where the bytes of unfinished uploads live in the bucket. */
export const KEY_PREFIX = 'uploads/'
/* Parts of 8 MiB (S3 wants ≥ 5 MiB for every part but the last). */
export const PART_SIZE = 8 * 1024 * 1024

const MISSING = new Set(['NoSuchUpload', 'NoSuchKey', 'NotFound'])

function isMissing(error: unknown) {
  const name = (error as { name?: string; Code?: string } | null)?.name
  return Boolean(name && MISSING.has(name))
}

async function md5Of(body: ReadStream | Readable | Buffer) {
  const hash = createHash('md5')
  if (Buffer.isBuffer(body)) return hash.update(body).digest()
  const path = (body as ReadStream).path
  /* The store hands over a part buffered in a file: hash that file before it is sent. */
  if (typeof path !== 'string') throw new Error('part body without a file')
  await pipeline(createReadStream(path), hash)
  return hash.digest()
}

/** The ETag S3 gives a completed multipart upload: MD5 of the parts' MD5s, then -N. */
function multipartEtag(partEtags: string[]) {
  const digests = partEtags.map((etag) => Buffer.from(etag.replace(/"/g, ''), 'hex'))
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${partEtags.length}`
}

export class BucketStore extends S3Store {
  /** Uploads whose completion is under way in this process (see finishing.ts). */
  readonly finished = new Map<string, Upload>()

  /**
   * `dropped(id)` runs after a PATCH found a part stored corrupted and the
   * whole upload was removed (its row goes too; the client gets 502).
   */
  constructor(
    config: S3ClientConfig & { bucket: string },
    expirationPeriodInMilliseconds: number,
    private dropped: (id: string) => Promise<void> = async () => {}
  ) {
    super({
      partSize: PART_SIZE,
      /* Expired uploads are removed by our own sweep job: no object tags needed. */
      useTags: false,
      expirationPeriodInMilliseconds,
      s3ClientConfig: config,
    })
    /* Creation needs Upload-Length (resumable_uploads.ts): no deferred length, as on disk. */
    this.extensions = this.extensions.filter((name) => name !== 'creation-defer-length')
    this.client.middlewareStack.add(
      (next) => (args) => {
        const input = args.input as { Key?: string; Delete?: { Objects?: { Key?: string }[] } }
        const prefixed = { ...input }
        if (typeof input.Key === 'string') prefixed.Key = KEY_PREFIX + input.Key
        if (input.Delete?.Objects) {
          prefixed.Delete = {
            ...input.Delete,
            Objects: input.Delete.Objects.map((object) => ({
              ...object,
              Key: KEY_PREFIX + object.Key,
            })),
          }
        }
        return next({ ...args, input: prefixed as typeof args.input })
      },
      { step: 'initialize', name: 'tusKeyPrefix' }
    )
  }

  /** The bucket key of the upload's object (whole once the multipart upload is completed). */
  objectKey(id: string) {
    return KEY_PREFIX + id
  }

  /**
   * A completion under way answers from `finished`; every byte in but
   * never completed is one byte short (finishing.ts). On S3 that is either
   * every part uploaded (the process died before CompleteMultipartUpload)
   * or the multipart upload completed (the store then answers offset =
   * size because ListParts says NoSuchUpload) while the input was never saved.
   */
  async getUpload(id: string) {
    return this.finished.get(id) ?? lastByteMissing(await super.getUpload(id))
  }

  /** The upload as stored (every byte counted), for the completion itself. */
  storedUpload(id: string) {
    return super.getUpload(id)
  }

  /**
   * Appends a PATCH body. When every byte is in already (see getUpload), the
   * re-sent last byte is dropped and the multipart upload completed if it
   * was not: the request then finishes the upload like a normal last PATCH.
   */
  async write(readable: Readable, id: string, offset: number) {
    const stored = await super.getUpload(id)
    if (stored.size === undefined || stored.offset < stored.size) {
      try {
        const body = readable.pipe(youngGcPassThrough())
        readable.once('error', (error) => body.destroy(error))
        return await super.write(body, id, offset)
      } catch (error) {
        if (!(error instanceof StoredFileMismatch)) throw error
        logger.error({ key: error.key, detail: error.detail }, 'tus upload stored corrupted')
        await this.remove(id)
        await this.dropped(id)
        throw new UploadNotStoredException()
      }
    }
    /* At most the one byte left (the server cuts a body at the declared length). */
    readable.resume()
    await finished(readable)
    const metadata = await this.getMetadata(id)
    try {
      const parts = await this.retrieveParts(id)
      await this.finishMultipartUpload(metadata, parts)
    } catch (error) {
      /* Already completed: the object is whole. */
      if (!isMissing(error)) throw error
    }
    await this.clearCache(id)
    return stored.size
  }

  protected async uploadPart(
    metadata: MetadataValue,
    body: ReadStream | Readable | Buffer,
    partNumber: number
  ) {
    const md5 = await md5Of(body)
    const data = await this.client.uploadPart({
      Bucket: this.bucket,
      Key: metadata.file.id,
      UploadId: metadata['upload-id'],
      PartNumber: partNumber,
      Body: body,
      ContentMD5: md5.toString('base64'),
    })
    this.checkEtag(metadata.file.id, data.ETag, md5)
    return data.ETag!
  }

  protected async uploadIncompletePart(id: string, body: ReadStream | Readable) {
    const md5 = await md5Of(body)
    const data = await this.client.putObject({
      Bucket: this.bucket,
      Key: this.partKey(id, true),
      Body: body,
      ContentMD5: md5.toString('base64'),
    })
    this.checkEtag(this.partKey(id, true), data.ETag, md5)
    return data.ETag!
  }

  /** A part's ETag is the MD5 of what the store kept. */
  private checkEtag(key: string, etag: string | undefined, md5: Buffer) {
    const kept = etag?.replace(/"/g, '').toLowerCase()
    const sent = md5.toString('hex')
    if (kept !== sent)
      throw new StoredFileMismatch(KEY_PREFIX + key, `sent MD5 ${sent}, the store has ${kept}`)
  }

  /** Completes, then checks the object: the upload's size, and the multipart ETag of its parts. */
  protected async finishMultipartUpload(metadata: MetadataValue, parts: { ETag?: string }[]) {
    const location = await super.finishMultipartUpload(metadata, parts)
    const id = metadata.file.id
    const head = await this.client.headObject({ Bucket: this.bucket, Key: id })
    const etag = head.ETag?.replace(/"/g, '')
    let problem: string | null = null
    if (head.ContentLength !== metadata.file.size) {
      problem = `expected ${metadata.file.size} bytes, the store has ${head.ContentLength}`
    } else if (etag?.includes('-') && parts.length > 0) {
      const expected = multipartEtag(parts.map((part) => part.ETag ?? ''))
      if (etag !== expected) problem = `expected ETag ${expected}, the store has ${etag}`
    }
    if (problem) throw new StoredFileMismatch(KEY_PREFIX + id, problem)
    return location
  }

  /**
   * Termination and the sweep: aborts the multipart upload (if there is
   * one still), then deletes the object, `.info` and `.part`. Missing
   * pieces are fine: a process can die between any two of these steps.
   */
  async remove(id: string) {
    try {
      const { 'upload-id': uploadId } = await this.getMetadata(id)
      if (uploadId) {
        await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId })
      }
    } catch (error) {
      if (!isMissing(error)) throw error
    }
    await this.purge(id)
  }

  /**
   * Expired uploads are swept from their rows (ResumableUploads.sweepExpired),
   * not by listing the bucket's multipart uploads: the store's own listing
   * would see prefixed keys and miss each upload's .info and .part.
   */
  async deleteExpired() {
    return 0
  }

  /**
   * Deletes every object of the upload (whatever exists of them) and forgets
   * its metadata. One DeleteObject each (no body): stores that lack
   * DeleteObjects (GCS's XML API) or mangle its body still delete them.
   */
  async purge(id: string) {
    await Promise.all(
      [id, this.infoKey(id), this.partKey(id, true)].map((key) =>
        this.client.deleteObject({ Bucket: this.bucket, Key: key })
      )
    )
    await this.clearCache(id)
  }
}
