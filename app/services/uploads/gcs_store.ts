import type { Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import type { Bucket, File, FileMetadata } from '@google-cloud/storage'
import { GCSStore } from '@tus/gcs-store'
import { ERRORS, TUS_RESUMABLE, Upload } from '@tus/server'
import logger from '@adonisjs/core/services/logger'
import { StoredFileMismatch } from '#integrations/storage/stored_file_check'
import { youngGcPassThrough } from '#services/tasks/young_gc'
import { lastByteMissing } from '#services/uploads/finishing'
/* Where the bytes of unfinished uploads live in the bucket, as on S3. */
import { KEY_PREFIX } from '#services/uploads/bucket_store'
import {
  StorageUnavailableException,
  UploadNotStoredException,
  UploadRejectedException,
} from '#exceptions/task_exceptions'

/*
 * @tus/gcs-store with what this app needs on top. The store's model is
 * kept: one object per upload holding the bytes received so far (offset =
 * the object's size) and the upload's description in its custom metadata;
 * each PATCH streams into `<id>_patch`, which is then composed onto `<id>`
 * (GCS compose) and deleted. On top:
 *   - every key under KEY_PREFIX (the store writes at the bucket's root): the
 *     store is handed a view of the bucket whose file() prefixes the name,
 *     so operators can put a lifecycle rule on that prefix;
 *   - every PATCH goes to `<id>_patch`, the first one too (the store writes
 *     the first into `<id>` itself, and a failed write then deletes `<id>`:
 *     the upload's description with it, so the client's resend got a 404);
 *   - one compose request that also sets the custom metadata (the store
 *     composes, then sets it in a second call: a crash in between left an
 *     upload without its length), guarded by the object's generation;
 *   - the check: a composite object has no md5Hash, only crc32c. Each PATCH
 *     extends the CRC32C GCS reported for the object before it with the
 *     bytes sent, and the composed object must have that CRC32C and the
 *     offset as its size (so the patch upload needs no check of its own).
 *     A mismatch removes the whole upload: 502 storage_mismatch;
 *   - single-request uploads (no resumable session: a PATCH body cannot be
 *     replayed, and one request keeps no chunk in memory);
 *   - the two completion subtleties (finishing.ts);
 *   - creation_date kept in the metadata (the object's own timeCreated
 *     changes with every compose) for the expiration extension;
 *   - remove() for termination and the sweep.
 */

/* A composite object has at most 1024 components (GCS limit); each PATCH with data adds one. */
export const MAX_COMPONENTS = 1024

/* The CRC32C of no bytes (an upload's empty object at creation). */
const EMPTY_CRC32C = 'AAAAAA=='

/** `bucket` with every file name under KEY_PREFIX (everything else is the bucket itself). */
function prefixedBucket(bucket: Bucket): Bucket {
  return Object.create(bucket, {
    file: { value: (name: string, options?: object) => bucket.file(KEY_PREFIX + name, options) },
  })
}

function isMissing(error: unknown) {
  return (error as { code?: unknown } | null)?.code === 404
}

type Custom = Record<string, string | number | boolean | null>

export class GcsUploadStore extends GCSStore {
  /** Uploads whose completion is under way in this process (see finishing.ts). */
  readonly finished = new Map<string, Upload>()

  /**
   * `dropped(id)` runs after a PATCH found the object stored corrupted and
   * the whole upload was removed (its row goes too; the client gets 502).
   */
  constructor(
    bucket: Bucket,
    private expirationMs: number,
    private dropped: (id: string) => Promise<void> = async () => {}
  ) {
    super({ bucket: prefixedBucket(bucket) })
    /* Creation needs Upload-Length (resumable_uploads.ts): no deferred length, as on disk. */
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration']
  }

  /** The bucket key of the upload's object. */
  objectKey(id: string) {
    return KEY_PREFIX + id
  }

  private patchFile(id: string) {
    return this.bucket.file(`${id}_patch`)
  }

  getExpiration() {
    return this.expirationMs
  }

  /** Expired uploads are swept from their rows (ResumableUploads.sweepExpired). */
  async deleteExpired() {
    return 0
  }

  private describe(upload: Upload): Custom {
    return {
      tus_version: TUS_RESUMABLE,
      size: upload.size ?? null,
      sizeIsDeferred: `${upload.sizeIsDeferred}`,
      metadata: JSON.stringify(upload.metadata),
      storage: JSON.stringify(upload.storage),
      creation_date: upload.creation_date ?? new Date().toISOString(),
    }
  }

  /** The empty object that describes the upload (one request, no resumable session). */
  async create(upload: Upload) {
    upload.storage = { type: 'gcs', path: this.objectKey(upload.id), bucket: this.bucket.name }
    await this.bucket.file(upload.id).save(Buffer.alloc(0), {
      resumable: false,
      metadata: { contentType: 'application/octet-stream', metadata: this.describe(upload) },
    })
    return upload
  }

  private async stored(id: string) {
    try {
      const [meta] = await this.bucket.file(id).getMetadata()
      return meta
    } catch (error) {
      if (isMissing(error)) throw ERRORS.FILE_NOT_FOUND
      throw error
    }
  }

  private uploadOf(id: string, meta: FileMetadata) {
    const custom = (meta.metadata ?? {}) as Record<string, string | undefined>
    return new Upload({
      id,
      size: custom.size ? Number.parseInt(custom.size, 10) : undefined,
      offset: Number.parseInt(String(meta.size ?? 0), 10),
      metadata: custom.metadata ? JSON.parse(custom.metadata) : undefined,
      storage: { type: 'gcs', path: this.objectKey(id), bucket: this.bucket.name },
      creation_date: custom.creation_date ?? meta.timeCreated,
    })
  }

  /** A completion under way answers from `finished`; every byte in but never completed is one byte short (finishing.ts). */
  async getUpload(id: string) {
    return this.finished.get(id) ?? lastByteMissing(await this.storedUpload(id))
  }

  /** The upload as stored (every byte counted), for the completion itself. */
  async storedUpload(id: string) {
    return this.uploadOf(id, await this.stored(id))
  }

  /**
   * Appends a PATCH body: streamed into `<id>_patch` (what arrived before a
   * cut is kept: the server ends an aborted body gracefully), composed onto
   * `<id>`, checked. A failed write deletes the patch and leaves the offset
   * where it was. When every byte is in already (see getUpload), the resent
   * last byte is dropped and the request finishes the upload.
   */
  async write(readable: Readable, id: string, offset: number) {
    const meta = await this.stored(id)
    const upload = this.uploadOf(id, meta)
    if (upload.size !== undefined && upload.offset >= upload.size) {
      readable.resume()
      await finished(readable)
      return upload.size
    }
    if (offset !== upload.offset) throw ERRORS.INVALID_OFFSET
    if (Number(meta.componentCount ?? 1) >= MAX_COMPONENTS) {
      readable.resume()
      throw new UploadRejectedException(
        'This upload was interrupted too many times to go on. Please upload the file again.',
        409
      )
    }

    const patch = this.patchFile(id)
    /* The client is loaded only where the GCS disk is used (see config/gcs.ts). */
    const { CRC32C } = await import('@google-cloud/storage')
    const crc = CRC32C.from(meta.crc32c ?? EMPTY_CRC32C)
    let written = 0
    const counter = youngGcPassThrough((chunk) => {
      written += chunk.length
      crc.update(chunk)
    })
    try {
      await pipeline(
        readable,
        counter,
        patch.createWriteStream({
          resumable: false,
          /* The composed object's CRC32C (below) covers the patch's bytes: one CRC pass, not two. */
          validation: false,
          metadata: { contentType: 'application/octet-stream' },
        })
      )
    } catch (error) {
      await patch.delete({ ignoreNotFound: true }).catch(() => {})
      /* The client's body failed: nobody to answer. GCS failed: the client may resend. */
      if (readable.errored) throw ERRORS.FILE_WRITE_ERROR
      logger.error({ err: error, id }, 'tus PATCH not stored in GCS')
      throw new StorageUnavailableException()
    }
    if (written === 0) {
      await patch.delete({ ignoreNotFound: true })
      return offset
    }

    const expected = offset + written
    let composed: FileMetadata
    try {
      const [patchMeta] = await patch.getMetadata()
      composed = await this.compose(this.bucket.file(id), meta, patch, patchMeta)
    } catch (error) {
      /* A compose retried after its answer was lost meets its own precondition (412). */
      const now = await this.stored(id).catch(() => null)
      if (!now || now.generation === meta.generation || Number(now.size) !== expected) {
        logger.error({ err: error, id }, 'tus PATCH not composed in GCS')
        throw new StorageUnavailableException()
      }
      composed = now
    } finally {
      await patch.delete({ ignoreNotFound: true }).catch(() => {})
    }
    if (Number(composed.size) !== expected || composed.crc32c !== crc.toString()) {
      return this.drop(
        id,
        new StoredFileMismatch(
          this.objectKey(id),
          `expected ${expected} bytes with crc32c ${crc}, the store has ${composed.size} with ${composed.crc32c}`
        )
      )
    }
    return expected
  }

  /**
   * objects.compose of `<id>` and its patch into `<id>`, with the upload's
   * custom metadata on the result (compose takes the destination's metadata
   * from the request, not from the sources), only if `<id>` is still the
   * generation read before the PATCH.
   */
  private compose(file: File, meta: FileMetadata, patch: File, patchMeta: FileMetadata) {
    return new Promise<FileMetadata>((resolve, reject) => {
      file.request(
        {
          method: 'POST',
          uri: '/compose',
          qs: { ifGenerationMatch: meta.generation },
          json: {
            destination: { contentType: meta.contentType, metadata: meta.metadata },
            sourceObjects: [
              { name: file.name, generation: Number(meta.generation) },
              { name: patch.name, generation: Number(patchMeta.generation) },
            ],
          },
        },
        (error, response) => (error ? reject(error) : resolve(response as FileMetadata))
      )
    })
  }

  /** The store kept other bytes than were sent: the whole upload goes, the client gets 502. */
  private async drop(id: string, error: StoredFileMismatch): Promise<never> {
    logger.error({ key: error.key, detail: error.detail }, 'tus upload stored corrupted')
    await this.remove(id)
    await this.dropped(id)
    throw new UploadNotStoredException()
  }

  /** Termination and the sweep. */
  remove(id: string) {
    return this.purge(id)
  }

  /** The object and a patch left by a crash, whatever exists of them. */
  async purge(id: string) {
    await Promise.all(
      [this.bucket.file(id), this.patchFile(id)].map((file) =>
        file.delete({ ignoreNotFound: true })
      )
    )
  }
}
