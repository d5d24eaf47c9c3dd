import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FileStore } from '@tus/file-store'
import { ERRORS, type DataStore, type Upload } from '@tus/server'
import { youngGcPassThrough } from '#services/tasks/young_gc'
import type { InputKind } from '#config/models'
import mediaStorage from '#integrations/storage/media_storage'
import Task from '#models/task'
import type TaskInput from '#models/task_input'
import uploadService from '#services/tasks/upload_service'
import { s3Bucket, s3ClientConfig } from '#config/s3'
import { BucketStore } from '#services/uploads/bucket_store'
import { GcsUploadStore } from '#services/uploads/gcs_store'
import { gcsBucket } from '#config/gcs'
import ResumableUpload from '#models/resumable_upload'
import logger from '@adonisjs/core/services/logger'

/* Same as the raw PUT's staging file (upload_service.ts): bounded memory, few large writes. */
const WRITE_BUFFER = 2 * 1024 * 1024

/* tus `expiration`: an upload must complete within this long after its creation. */
export const UPLOAD_EXPIRY_MS = 24 * 60 * 60 * 1000

export type FinishedUpload = { id: string; taskId: string; kind: InputKind; fileName: string }

/**
 * Where the bytes of resumable uploads go, and how a finished one becomes
 * a task's input. Either way the tus bytes are gone afterwards (moved into
 * the input, or deleted when the file is refused).
 */
export interface TusBackend {
  store: DataStore
  /** Runs the usual checks and makes the file the task's input; throws a DomainException when refused. */
  complete(upload: FinishedUpload): Promise<TaskInput>
  /** Deletes an unfinished upload's bytes and bookkeeping (terminated or swept). */
  remove(id: string): Promise<void>
  /** The request that finished `id` has been answered. */
  release(id: string): void
}

/**
 * fs disk: the tus folder sits inside the storage root, so an accepted
 * upload is renamed into place (no second copy), like a staged upload.
 */
export class FileBackend implements TusBackend {
  readonly directory = mediaStorage.scratchDir('uploads')
  readonly store = new FinishingFileStore({
    directory: this.directory,
    expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS,
  })

  async complete(upload: FinishedUpload) {
    const path = join(this.directory, upload.id)
    const finished = await this.store.storedUpload(upload.id)
    this.store.finished.set(upload.id, finished)
    try {
      const task = await Task.findOrFail(upload.taskId)
      const staged = await uploadService.stageComplete(upload.kind, path, upload.fileName)
      /* accept() moves the file into storage, or removes it when refused. */
      return await uploadService.accept(task, upload.kind, staged)
    } finally {
      await rm(path, { force: true })
      await this.store.configstore.delete(upload.id)
    }
  }

  release(id: string) {
    this.store.finished.delete(id)
  }

  async remove(id: string) {
    await rm(join(this.directory, id), { force: true })
    /* A process killed between the row and the store's files leaves no .json: already removed. */
    await rm(join(this.directory, `${id}.json`), { force: true })
  }
}

/**
 * DRIVE_DISK=s3: the bytes go straight into the bucket as a multipart
 * upload (@tus/s3-store; each PATCH is cut into 8 MiB parts buffered one at
 * a time in the OS temp folder, a leftover under 5 MiB kept as `<id>.part`
 * until the next PATCH). The last byte completes the multipart upload; the
 * checks then read the object where it is (a ranged GET for the first bytes,
 * ffprobe through a presigned URL) and an accepted file is copied within the
 * bucket to the input's key. Nothing of the file rests on the app's disk.
 */
export class BucketBackend implements TusBackend {
  readonly store: BucketStore

  constructor(config = { ...s3ClientConfig, bucket: s3Bucket }) {
    this.store = new BucketStore(config, UPLOAD_EXPIRY_MS, async (id) => {
      await ResumableUpload.query().where('id', id).delete()
    })
  }

  async complete(upload: FinishedUpload) {
    const finished = await this.store.storedUpload(upload.id)
    this.store.finished.set(upload.id, finished)
    try {
      const task = await Task.findOrFail(upload.taskId)
      const key = this.store.objectKey(upload.id)
      const stored = await uploadService.stageObject(upload.kind, key, upload.fileName)
      /* Accepted, the object is copied to the input's key; either way the tus objects go. */
      return await uploadService.acceptObject(task, upload.kind, stored)
    } finally {
      /* The answer stands either way; a lifecycle rule on uploads/ catches what is left. */
      await this.store.purge(upload.id).catch((error) => {
        logger.error({ err: error, id: upload.id }, 'finished tus upload objects not deleted')
      })
    }
  }

  release(id: string) {
    this.store.finished.delete(id)
  }

  remove(id: string) {
    return this.store.remove(id)
  }
}

/**
 * DRIVE_DISK=gcs: the bytes go straight into the bucket (@tus/gcs-store,
 * see gcs_store.ts): each PATCH streams into a patch object that is
 * composed onto the upload's object, so nothing of the file touches the
 * app's disk. Completion is the S3 one: the checks read the object where it
 * is (a ranged read, ffprobe through a V4 signed URL) and an accepted file
 * is copied within the bucket to the input's key.
 */
export class GcsBackend implements TusBackend {
  readonly store: GcsUploadStore

  constructor(bucket: Awaited<ReturnType<typeof gcsBucket>>) {
    this.store = new GcsUploadStore(bucket, UPLOAD_EXPIRY_MS, async (id) => {
      await ResumableUpload.query().where('id', id).delete()
    })
  }

  /** The backend over the app's bucket (the client is loaded on first use). */
  static async create() {
    return new GcsBackend(await gcsBucket())
  }

  async complete(upload: FinishedUpload) {
    const finished = await this.store.storedUpload(upload.id)
    this.store.finished.set(upload.id, finished)
    try {
      const task = await Task.findOrFail(upload.taskId)
      const key = this.store.objectKey(upload.id)
      const stored = await uploadService.stageObject(upload.kind, key, upload.fileName)
      return await uploadService.acceptObject(task, upload.kind, stored)
    } finally {
      /* The answer stands either way; a lifecycle rule on uploads/ catches what is left. */
      await this.store.remove(upload.id).catch((error) => {
        logger.error({ err: error, id: upload.id }, 'finished tus upload objects not deleted')
      })
    }
  }

  release(id: string) {
    this.store.finished.delete(id)
  }

  remove(id: string) {
    return this.store.remove(id)
  }
}

/**
 * @tus/server reads an upload once more after its finish hook (for the
 * Upload-Expires header of a creation-with-upload); by then the file has
 * become the task's input. Until the request ends, that read gets the
 * finished upload as it was. `release(id)` forgets it.
 *
 * An upload still in the store with every byte in was never completed:
 * the process died inside its final PATCH (between the last byte and the
 * input being saved). Reporting Upload-Offset = Upload-Length would tell
 * the client "done" for a file that never became the input, so its last
 * byte is reported missing instead: the client sends it again, and that
 * PATCH completes the upload (or answers why the file is refused). A
 * completion under way in this process answers from `finished`.
 */
class FinishingFileStore extends FileStore {
  readonly finished = new Map<string, Upload>()

  async getUpload(id: string) {
    const finishing = this.finished.get(id)
    if (finishing) return finishing
    const upload = await super.getUpload(id)
    if (upload.size !== undefined && upload.size > 0 && upload.offset >= upload.size)
      upload.offset = upload.size - 1
    return upload
  }

  /** The upload as stored (every byte counted), for the completion itself. */
  storedUpload(id: string) {
    return super.getUpload(id)
  }

  /**
   * Appends a PATCH body at `offset`, like the raw PUT writes its staging
   * file: a large write buffer (few, large writes) and a young-generation GC
   * every few MB (written chunks die young; see young_gc.ts). An aborted
   * request ends the body stream gracefully, so what arrived is flushed and
   * the next HEAD reports it.
   */
  async write(readable: Readable, id: string, offset: number) {
    const file = createWriteStream(join(this.directory, id), {
      flags: 'r+',
      start: offset,
      highWaterMark: WRITE_BUFFER,
    })
    let written = 0
    const counter = youngGcPassThrough((chunk) => (written += chunk.length))
    try {
      await pipeline(readable, counter, file)
    } catch {
      throw ERRORS.FILE_WRITE_ERROR
    }
    return offset + written
  }
}

export type { Upload }
