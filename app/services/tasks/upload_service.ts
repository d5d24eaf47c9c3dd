import { createWriteStream, type WriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import generationConfig from '#config/generation'
import { findModel, type InputKind } from '#config/models'
import { Bouncer } from '@adonisjs/bouncer'
import Task from '#models/task'
import User from '#models/user'
import type { Owner } from '#models/scopes/owned_by'
import TaskPolicy from '#policies/task_policy'
import { Refusal } from '#exceptions/refusal'
import TaskInput from '#models/task_input'
import { uuidv7 } from '#helpers/ids'
import { formatBytes } from '#helpers/formatting'
import mediaStorage from '#integrations/storage/media_storage'
import { youngGcMeter } from '#services/tasks/young_gc'
import {
  localSource,
  probeMedia,
  sniffType,
  SNIFF_BYTES,
  type MediaSource,
  type Sniffed,
} from '#services/tasks/media_probe'
import {
  RunActiveException,
  StorageUnavailableException,
  UnknownInputException,
  UploadNotStoredException,
  UploadRejectedException,
} from '#exceptions/task_exceptions'
import { StoredFileMismatch, StoreUnavailable } from '#integrations/storage/stored_file_check'

export type StagedUpload = { path: string; size: number; sniffed: Sniffed; clientName: string }

/** A complete upload that is an object in the bucket already (a finished tus upload on S3). */
export type StoredUpload = { key: string; size: number; sniffed: Sniffed; clientName: string }

/* How long ffprobe may read an object through its presigned URL (its own timeout is 60 s). */
const PROBE_URL_TTL_SECONDS = 5 * 60

/** Where the checked file comes from, and how it becomes the object at `key`. */
type Acceptance = {
  source(): Promise<MediaSource>
  store(key: string): Promise<void>
  discard(): Promise<void>
}

/** The store kept other bytes than were sent: logged for operators, retryable for the user. */
function storageMismatch(error: StoredFileMismatch) {
  logger.error({ key: error.key, detail: error.detail }, 'upload stored corrupted; object deleted')
  return new UploadNotStoredException()
}

export function maxBytesFor(kind: InputKind) {
  return generationConfig.uploads[kind].maxBytes
}

export function tooLargeMessage(kind: InputKind) {
  return `This file is too large: ${kind === 'video' ? 'videos' : 'audio files'} can be at most ${formatBytes(maxBytesFor(kind))}.`
}

/**
 * A user's file name, made safe to show: no folders, no control characters,
 * at most `maxNameLength` characters (the extension kept). Never used as a
 * storage path.
 */
export function displayName(clientName: string | undefined, fallback: string) {
  const base = String(clientName ?? '')
    .split(/[\\/]/)
    .pop()!
    /* eslint-disable-next-line no-control-regex -- control characters are what we strip */
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+/, '')
    .trim()
  if (!base) return fallback
  const max = generationConfig.uploads.maxNameLength
  if (base.length <= max) return base
  const dot = base.lastIndexOf('.')
  const ext = dot > 0 && base.length - dot <= 10 ? base.slice(dot) : ''
  return `${base.slice(0, max - ext.length - 1)}…${ext}`
}

/* Write buffer of the staging file: few large writes, bounded memory per upload. */
const WRITE_BUFFER = 2 * 1024 * 1024

/**
 * True when a body stream can no longer deliver its end: destroyed or
 * errored before 'end' (e.g. the client reset or half-closed the
 * connection while the request waited for the database).
 */
export function bodyGone(source: Readable) {
  return source.readableAborted || (source.destroyed && !source.readableEnded)
}

/**
 * See UploadService.stage. Every listener on `source` is attached here,
 * synchronously, before anything is awaited: an error, abort or close
 * that happens while the staging path is prepared is seen. All failures
 * go through `fail`, the one clean-up path: stop reading, close the fd,
 * remove the staging file, then reject.
 */
function receive(kind: InputKind, source: Readable, clientName: string): Promise<StagedUpload> {
  const maxBytes = maxBytesFor(kind)
  let path: string | null = null
  let file: WriteStream | null = null
  let size = 0
  const collectGarbage = youngGcMeter()
  let head: Buffer[] | null = []
  let headLength = 0
  let sniffing: Promise<Sniffed> | null = null
  let settled = false

  return new Promise<StagedUpload>((resolve, reject) => {
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      source.off('data', count)
      if (file) source.unpipe(file)
      /* Keep reading (and dropping) what the client still sends, so the answer gets through. */
      source.on('error', () => {})
      source.resume()
      const done = () => reject(error)
      const removeStaged = () => (path ? rm(path, { force: true }).then(done, done) : done())
      if (!file) return void removeStaged()
      /* Remove the file only once the stream is closed: a stream destroyed before its
         open() finished still creates the file when the open completes. */
      const stream = file
      stream.destroy()
      if (stream.closed) void removeStaged()
      else stream.once('close', removeStaged)
    }
    const startSniff = () => {
      sniffing = sniffType(kind, Buffer.concat(head!))
      head = null
      sniffing.catch(fail)
    }
    const count = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) return fail(new UploadRejectedException(tooLargeMessage(kind), 413))
      collectGarbage(chunk.length)
      if (head) {
        head.push(chunk)
        headLength += chunk.length
        if (headLength >= SNIFF_BYTES) startSniff()
      }
    }
    const incomplete = () =>
      fail(new UploadRejectedException('The upload did not complete. Please try again.', 400))

    source.on('error', incomplete)
    source.once('aborted', incomplete)
    /* A request whose client went away closes without 'end'. */
    source.once('close', () => {
      if (!source.readableEnded) incomplete()
    })
    source.once('end', () => {
      if (settled) return
      if (size === 0)
        return fail(new UploadRejectedException('The file is empty. Please choose another file.'))
      if (head) startSniff()
      Promise.all([sniffing!, finished(file!)]).then(([sniffed]) => {
        if (settled) return
        settled = true
        resolve({ path: path!, size, sniffed, clientName })
      }, fail)
    })
    if (bodyGone(source)) return incomplete()

    /* The body starts flowing only once the staging file is there to take it. */
    mediaStorage.newStagingPath().then((stagingPath) => {
      if (settled) return
      path = stagingPath
      file = createWriteStream(path, { highWaterMark: WRITE_BUFFER })
      file.once('error', fail)
      source.on('data', count)
      source.pipe(file)
    }, fail)
  })
}

/**
 * Uploads: the body streams to a staging file with bounded memory. While it
 * streams, the size limit is enforced and the first bytes are checked for
 * the real type, so a wrong or oversize file is cut off early. Then ffprobe
 * checks streams and duration, and the file is moved into storage.
 */
export class UploadService {
  /**
   * For callers without an HTTP request (resumable uploads): the user's
   * task (else E_ROW_NOT_FOUND), its slot `kind` (else a 404) and
   * TaskPolicy's replaceInput rule (its refusal thrown as the exception).
   */
  async checkTarget(owner: Owner, taskId: string, kind: string) {
    const task = await Task.query()
      .withScopes((scopes) => scopes.ownedBy(owner))
      .where('id', String(taskId))
      .firstOrFail()
    const inputKind = this.inputKindOf(task, kind)
    const user = await User.findOrFail(task.userId)
    const verdict = await new Bouncer(user).with(TaskPolicy).execute('replaceInput', task)
    if (verdict instanceof Refusal) throw verdict.exception
    return { task, kind: inputKind }
  }

  /** The input slot `kind` of the task's model, else a 404 (UnknownInputException). */
  inputKindOf(task: Task, kind: string): InputKind {
    const model = findModel(task.model)
    if (!model || !model.inputs.includes(kind as InputKind)) throw new UnknownInputException()
    return kind as InputKind
  }

  /**
   * Streams an upload (the raw request body, or one multipart file part) to
   * a staging file. The only work per chunk is a byte counter; the first
   * bytes are also kept until there are enough to judge the type. Writes go
   * through a write stream with a large buffer, so the disk gets few, large
   * writes while the socket keeps reading. Over the limit or the wrong type,
   * it stops writing at once, discards the rest of the body (the controller
   * closes the connection shortly after answering) and rejects.
   */
  stage(kind: InputKind, source: Readable, clientName: string): Promise<StagedUpload> {
    return receive(kind, source, clientName)
  }

  /**
   * The checks a complete file passes before it is probed, whichever way it
   * came (a local file, an object in the bucket): not empty, within the
   * kind's limit, and its first bytes (`head`, up to SNIFF_BYTES) of a type
   * the slot takes.
   */
  async judgeComplete(kind: InputKind, size: number, head: Buffer) {
    if (size === 0)
      throw new UploadRejectedException('The file is empty. Please choose another file.')
    if (size > maxBytesFor(kind)) throw new UploadRejectedException(tooLargeMessage(kind), 413)
    return sniffType(kind, head)
  }

  /**
   * A file that is already complete on the local disk (a finished resumable
   * upload): its first bytes are judged like a streamed upload's.
   */
  async stageComplete(kind: InputKind, path: string, clientName: string): Promise<StagedUpload> {
    const handle = await open(path, 'r')
    try {
      const { size } = await handle.stat()
      const head = Buffer.alloc(Math.min(size, SNIFF_BYTES))
      await handle.read(head, 0, head.length, 0)
      return { path, size, sniffed: await this.judgeComplete(kind, size, head), clientName }
    } finally {
      await handle.close()
    }
  }

  /**
   * An object that is complete in the bucket (a finished resumable upload on
   * S3): its size from the store, its first bytes through one ranged GET, no
   * local copy.
   */
  async stageObject(kind: InputKind, key: string, clientName: string): Promise<StoredUpload> {
    const size = await mediaStorage.size(key)
    const head = size > 0 ? await mediaStorage.readRange(key, 0, SNIFF_BYTES) : Buffer.alloc(0)
    return { key, size, sniffed: await this.judgeComplete(kind, size, head), clientName }
  }

  async discard(staged: StagedUpload) {
    await rm(staged.path, { force: true })
  }

  /** Probes a staged file and makes it the task's input (replacing the previous one). */
  accept(task: Task, kind: InputKind, staged: StagedUpload) {
    return this.acceptChecked(task, kind, staged, {
      source: () => localSource(staged.path),
      store: (key) => mediaStorage.commitLocalFile(staged.path, key),
      discard: () => rm(staged.path, { force: true }),
    })
  }

  /**
   * Probes an object in the bucket through a presigned URL (ffprobe reads
   * HTTP; the box check reads a few bytes per top-level box with ranged
   * GETs) and, accepted, copies it within the bucket to the input's key
   * (checked like every put). The caller deletes `stored.key` either way.
   */
  acceptObject(task: Task, kind: InputKind, stored: StoredUpload) {
    return this.acceptChecked(task, kind, stored, {
      source: async () => {
        const url = await mediaStorage.presignedUrl(stored.key, PROBE_URL_TTL_SECONDS)
        if (!url) throw new Error('acceptObject needs object storage')
        return {
          input: url,
          size: stored.size,
          read: (position, length) => mediaStorage.readRange(stored.key, position, length),
        }
      },
      store: (key) => mediaStorage.copy(stored.key, key, stored.size),
      discard: async () => {},
    })
  }

  /** The probe, the store and the input row: one path for every way a file arrives. */
  private async acceptChecked(
    task: Task,
    kind: InputKind,
    file: { size: number; sniffed: Sniffed; clientName: string },
    how: Acceptance
  ) {
    let key: string | null = null
    try {
      const media = await probeMedia(kind, await how.source(), file.sniffed)
      key = `tasks/${task.id}/inputs/${uuidv7()}.${media.container}`
      await how.store(key)
      const storedKey = key
      const { input, previousKey } = await db.transaction(async (trx) => {
        /* A run launched while this file streamed (TaskPolicy checked before) uses the old file. */
        const idle = await Task.query({ client: trx })
          .where('id', task.id)
          .withScopes((scopes) => scopes.idle())
          .first()
        if (!idle) throw new RunActiveException('replaceInput')
        const existing = await TaskInput.query({ client: trx })
          .where('taskId', task.id)
          .where('kind', kind)
          .first()
        const values = {
          storageKey: storedKey,
          originalName: displayName(file.clientName, `${kind}.${media.container}`),
          mimeType: media.mime,
          container: media.container,
          size: file.size,
          duration: media.duration,
          width: media.width,
          height: media.height,
        }
        if (existing) {
          const old = existing.storageKey
          existing.merge(values)
          await existing.useTransaction(trx).save()
          return { input: existing, previousKey: old }
        }
        const created = await TaskInput.create(
          { taskId: task.id, kind, ...values },
          { client: trx }
        )
        return { input: created, previousKey: null }
      })
      await mediaStorage.delete(previousKey)
      return input
    } catch (error) {
      await how.discard()
      if (key) await mediaStorage.delete(key)
      if (error instanceof StoredFileMismatch) throw storageMismatch(error)
      if (error instanceof StoreUnavailable) {
        logger.error({ key: error.key, err: error.cause }, 'upload could not be stored')
        throw new StorageUnavailableException()
      }
      throw error
    }
  }
}

export default new UploadService()
