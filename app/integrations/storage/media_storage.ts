import { createReadStream } from 'node:fs'
import { mkdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import drive from '@adonisjs/drive/services/main'
import { FSDriver } from 'flydrive/drivers/fs'
import { S3Driver } from 'flydrive/drivers/s3'
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { s3Bucket, s3Client } from '#config/s3'
import { gcsBucket, gcsReadStallMs } from '#config/gcs'
import { uuidv7 } from '#helpers/ids'
import { guardStalls } from '#helpers/stall_guard'
import {
  StoredFileMismatch,
  StoreUnavailable,
  tally,
  type Tally,
} from '#integrations/storage/stored_file_check'

/* GCS resumable chunk (a multiple of 256 KiB): the client buffers one for a resend. */
const GCS_CHUNK_BYTES = 8 * 1024 * 1024

/**
 * Media files (inputs and results) in the configured drive disk, plus a
 * local scratch area. With the fs disk the scratch area sits inside the
 * storage folder, so finishing an upload is a rename, not a second copy.
 */
export class MediaStorage {
  private get disk() {
    return drive.use()
  }

  /** Root folder of the fs disk, or null for S3/GCS. */
  private get fsRoot(): string | null {
    const driver = this.disk.driver
    if (driver instanceof FSDriver) {
      const location = driver.options.location
      return typeof location === 'string' ? location : fileURLToPath(location)
    }
    return null
  }

  /** Local folder for work files (staged uploads, local generation jobs). */
  scratchDir(name: 'staging' | 'generation' | 'uploads') {
    const root = this.fsRoot
    return root ? join(root, '.work', name) : app.tmpPath(name)
  }

  async newStagingPath() {
    const dir = this.scratchDir('staging')
    await mkdir(dir, { recursive: true })
    return join(dir, uuidv7())
  }

  /** The S3 disk is in use (its client takes ranged reads and checked puts). */
  get isS3() {
    return this.disk.driver instanceof S3Driver
  }

  /** The GCS disk is in use (its own client takes ranged reads and MD5 checks). */
  get isGcs() {
    const driver = this.disk.driver
    return !(driver instanceof FSDriver) && !(driver instanceof S3Driver)
  }

  /** Moves a finished local file into storage under `key`. */
  async commitLocalFile(localPath: string, key: string) {
    const root = this.fsRoot
    if (root) {
      const target = join(root, key)
      await mkdir(dirname(target), { recursive: true })
      await rename(localPath, target)
      return
    }
    const { size } = await stat(localPath)
    await this.putStream(key, createReadStream(localPath), size).catch((error) => {
      if (error instanceof StoredFileMismatch) throw error
      throw new StoreUnavailable(key, error)
    })
    await unlink(localPath)
  }

  /**
   * Stores a stream under `key`, then checks that the store kept exactly the
   * bytes sent (size, and the MD5 where the store's ETag is one). A mismatch
   * deletes the object and throws StoredFileMismatch: a corrupted file never
   * becomes an input or a result. `size` = known length (a plain PUT on S3);
   * without it S3 gets a multipart upload with bounded part buffers.
   */
  async putStream(key: string, stream: Readable, size?: number) {
    const sent = tally()
    const counted = stream.pipe(sent.stream)
    stream.once('error', (error) => counted.destroy(error))
    /* A failed put destroys `counted`: close the source too (no descriptor left open). */
    counted.once('close', () => {
      if (!stream.readableEnded) stream.destroy()
    })
    if (this.isS3) {
      await this.putS3(key, counted, size)
    } else if (this.isGcs) {
      await this.putGcs(key, counted, size)
    } else {
      await this.disk.putStream(key, counted)
    }
    await this.verifyStored(key, sent)
  }

  private async putS3(key: string, body: Readable, size?: number) {
    const client = s3Client()
    if (size !== undefined) {
      await client.send(
        new PutObjectCommand({ Bucket: s3Bucket, Key: key, Body: body, ContentLength: size })
      )
      return
    }
    await new Upload({
      client,
      params: { Bucket: s3Bucket, Key: key, Body: body },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done()
  }

  /**
   * GCS: a known small file goes in one multipart request; a larger one (or
   * one of unknown length) as a resumable upload in chunks, so a 5xx or a
   * dropped connection mid-file resumes from the last byte GCS persisted
   * instead of failing the upload. The client checks the CRC32C GCS reports.
   */
  private async putGcs(key: string, body: Readable, size?: number) {
    const file = (await gcsBucket()).file(key)
    const resumable = size === undefined || size > GCS_CHUNK_BYTES
    const target = resumable
      ? file.createWriteStream({
          resumable: true,
          chunkSize: GCS_CHUNK_BYTES,
          /* Becomes X-Upload-Content-Length: GCS then refuses a different total. */
          metadata: size === undefined ? {} : ({ contentLength: size } as object),
        })
      : file.createWriteStream({ resumable: false })
    await pipeline(body, target).catch((error) => {
      if (!isGcsUploadMismatch(error)) throw error
      throw new StoredFileMismatch(key, `the store's checksum differs (${error.code})`)
    })
  }

  /** Compares what the store holds under `key` with what was sent. */
  private async verifyStored(key: string, sent: Tally) {
    if (this.fsRoot) return
    let storedSize: number | undefined
    let etag: string | undefined
    if (this.isS3) {
      const head = await s3Client().send(new HeadObjectCommand({ Bucket: s3Bucket, Key: key }))
      storedSize = head.ContentLength
      etag = head.ETag
    } else if (this.isGcs) {
      /* A GCS ETag is no MD5; md5Hash (base64) is, for every non-composite object. */
      const [meta] = await (await gcsBucket()).file(key).getMetadata()
      storedSize = meta.size === undefined ? undefined : Number(meta.size)
      etag = meta.md5Hash ? Buffer.from(meta.md5Hash, 'base64').toString('hex') : undefined
    } else {
      const meta = await this.disk.getMetaData(key)
      storedSize = meta.contentLength
      etag = meta.etag
    }
    const problem = sent.compare(storedSize, etag)
    if (problem) {
      await this.delete(key)
      throw new StoredFileMismatch(key, problem)
    }
  }

  /**
   * Copies `from` to `to` within the bucket (S3 CopyObject, GCS rewrite: no byte passes
   * through this process), then checks the copy: its size must be `size`,
   * and its ETag the source's when the store kept the same kind of ETag (a
   * copy of a multipart object may get a plain MD5 one). A mismatch deletes
   * the copy and throws StoredFileMismatch.
   */
  async copy(from: string, to: string, size: number) {
    if (this.isGcs) return this.copyGcs(from, to, size)
    if (!this.isS3) {
      await this.disk.copy(from, to)
      return
    }
    const client = s3Client()
    const source = await client.send(new HeadObjectCommand({ Bucket: s3Bucket, Key: from }))
    await client.send(
      new CopyObjectCommand({
        Bucket: s3Bucket,
        Key: to,
        CopySource: `${s3Bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
      })
    )
    const copy = await client.send(new HeadObjectCommand({ Bucket: s3Bucket, Key: to }))
    const multipart = (etag?: string) => Boolean(etag?.includes('-'))
    let problem: string | null = null
    if (source.ContentLength !== size || copy.ContentLength !== size) {
      problem = `expected ${size} bytes, source has ${source.ContentLength}, copy has ${copy.ContentLength}`
    } else if (multipart(source.ETag) === multipart(copy.ETag) && source.ETag !== copy.ETag) {
      problem = `source ETag ${source.ETag}, copy ETag ${copy.ETag}`
    }
    if (problem) {
      await this.delete(to)
      throw new StoredFileMismatch(to, problem)
    }
  }

  /**
   * GCS: objects.rewrite within the bucket, then the copy checked against
   * the source: size `size` and the same CRC32C (every GCS object has one;
   * a composed object, such as a finished resumable upload, has no MD5),
   * and the same MD5 where both have one.
   */
  private async copyGcs(from: string, to: string, size: number) {
    const bucket = await gcsBucket()
    const [source] = await bucket.file(from).getMetadata()
    await bucket.file(from).copy(bucket.file(to))
    const [copy] = await bucket.file(to).getMetadata()
    let problem: string | null = null
    if (Number(source.size) !== size || Number(copy.size) !== size) {
      problem = `expected ${size} bytes, source has ${source.size}, copy has ${copy.size}`
    } else if (!copy.crc32c || copy.crc32c !== source.crc32c) {
      problem = `source crc32c ${source.crc32c}, copy crc32c ${copy.crc32c}`
    } else if (source.md5Hash && copy.md5Hash && source.md5Hash !== copy.md5Hash) {
      problem = `source MD5 ${source.md5Hash}, copy MD5 ${copy.md5Hash}`
    }
    if (problem) {
      await this.delete(to)
      throw new StoredFileMismatch(to, problem)
    }
  }

  /** Up to `length` bytes of `key` from `position` (one ranged GET on S3). */
  async readRange(key: string, position: number, length: number) {
    if (length <= 0) return Buffer.alloc(0)
    const stream = await this.open(key, { start: position, end: position + length - 1 })
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).subarray(0, length)
  }

  /** A time-limited URL of `key` on a cloud disk (for ffprobe or a provider), null on fs. */
  async signedUrl(key: string, expiresIn: string | number = '30mins') {
    if (this.fsRoot) return null
    /* GCS: V4 signing (the client's default is the legacy V2). */
    return this.disk.getSignedUrl(key, this.isGcs ? { expiresIn, version: 'v4' } : { expiresIn })
  }

  /** A local path for `key` when storage is local disk, else null. */
  localPath(key: string) {
    const root = this.fsRoot
    return root ? join(root, key) : null
  }

  async size(key: string) {
    const local = this.localPath(key)
    if (local) return (await stat(local)).size
    return (await this.disk.getMetaData(key)).contentLength
  }

  /**
   * A presigned GET URL of `key` on object storage (S3/GCS), valid for
   * `ttlSeconds`, for a generation provider to fetch the bytes directly.
   * Null on local disk (the app serves its own signed URL then).
   */
  async presignedUrl(key: string, ttlSeconds: number) {
    return this.signedUrl(key, ttlSeconds)
  }

  async exists(key: string) {
    return this.disk.exists(key)
  }

  /** Streams `key`, or the inclusive byte range [start, end] of it. */
  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const local = this.localPath(key)
    if (local) return createReadStream(local, range ? { start: range.start, end: range.end } : {})
    if (this.isS3) {
      /* A ranged GET: the store sends only the bytes asked for. */
      const object = await s3Client().send(
        new GetObjectCommand({
          Bucket: s3Bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        })
      )
      return object.Body as Readable
    }
    /* GCS: the client sends `Range` for start/end, so only those bytes leave the store. */
    const file = (await gcsBucket()).file(key)
    const stream = file.createReadStream(range ? { start: range.start, end: range.end } : {})
    return guardStalls(stream, gcsReadStallMs, `GCS read of ${key}`)
  }

  async delete(key: string | null | undefined) {
    if (!key) return
    try {
      await this.disk.delete(key)
    } catch (error) {
      /* A missing object is no error on any disk: this one stays behind (logged, not fatal). */
      logger.warn({ err: error, key }, 'stored file could not be deleted')
    }
  }

  async deletePrefix(prefix: string) {
    await this.disk.deleteAll(prefix).catch((error) => {
      logger.warn({ err: error, prefix }, 'stored files could not be deleted')
    })
  }

  async removeLocal(path: string) {
    await rm(path, { force: true, recursive: true })
  }
}

/** The GCS client's own upload check failed: the CRC32C (or MD5) GCS reports differs. */
function isGcsUploadMismatch(error: unknown) {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'FILE_NO_UPLOAD' || code === 'FILE_NO_UPLOAD_DELETE'
}

export default new MediaStorage()
