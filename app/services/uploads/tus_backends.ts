import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FileStore } from '@tus/file-store'
import { ERRORS, type DataStore, type Upload } from '@tus/server'
import { youngGcPassThrough } from '#services/tasks/young_gc'
import { lastByteMissing } from '#services/uploads/finishing'
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

/** A tus store that keeps its uploads in the bucket (S3 or GCS), as ObjectBackend uses it. */
interface BucketUploadStore extends DataStore {
  /** Uploads whose completion is under way in this process (finishing.ts). */
  readonly finished: Map<string, Upload>
  /** The upload as stored (every byte counted), for the completion itself. */
  storedUpload(id: string): Promise<Upload>
  /** The bucket key of the upload's whole object. */
  objectKey(id: string): string
  /** Deletes every object of the upload, whatever exists of them. */
  purge(id: string): Promise<void>
}

/* A store that found an upload stored corrupted removed it: its row goes too. */
async function forgetRow(id: string) {
  await ResumableUpload.query().where('id', id).delete()
}

/**
 * DRIVE_DISK=s3 and gcs: the bytes go straight into the bucket. On S3 as a
 * multipart upload (bucket_store.ts: each PATCH cut into 8 MiB parts
 * buffered one at a time in the OS temp folder, a leftover under 5 MiB kept
 * as `<id>.part` until the next PATCH); on GCS each PATCH streams into a
 * patch object composed onto the upload's object (gcs_store.ts). Once the
 * last byte is in, the checks read the object where it is (a ranged read
 * for the first bytes, ffprobe through a presigned or V4 signed URL) and an
 * accepted file is copied within the bucket to the input's key. Nothing of
 * the file rests on the app's disk.
 */
export class ObjectBackend implements TusBackend {
  constructor(readonly store: BucketUploadStore) {}

  static forS3() {
    return new ObjectBackend(
      new BucketStore({ ...s3ClientConfig, bucket: s3Bucket }, UPLOAD_EXPIRY_MS, forgetRow)
    )
  }

  /** The client is loaded on first use (config/gcs.ts). */
  static async forGcs() {
    return new ObjectBackend(new GcsUploadStore(await gcsBucket(), UPLOAD_EXPIRY_MS, forgetRow))
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
 * The fs store: a finished upload as it was until its request ends
 * (`finished`, forgotten by `release(id)`), and every byte in but never
 * completed reported one byte short (see finishing.ts).
 */
class FinishingFileStore extends FileStore {
  readonly finished = new Map<string, Upload>()

  async getUpload(id: string) {
    return this.finished.get(id) ?? lastByteMissing(await super.getUpload(id))
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
