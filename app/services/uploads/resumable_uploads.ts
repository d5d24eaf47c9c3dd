import type { IncomingMessage } from 'node:http'
import { EVENTS, Server, type Upload } from '@tus/server'
import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import type { InputKind } from '#config/models'
import ResumableUpload from '#models/resumable_upload'
import DomainException from '#exceptions/domain_exception'
import { UploadRejectedException } from '#exceptions/task_exceptions'
import uploadService, { maxBytesFor, tooLargeMessage } from '#services/tasks/upload_service'
import { uuidv7 } from '#helpers/ids'
import { sqlTime } from '#helpers/sql_time'
import mediaStorage from '#integrations/storage/media_storage'
import { WaitingLocker } from '#services/uploads/waiting_locker'
import {
  FileBackend,
  ObjectBackend,
  UPLOAD_EXPIRY_MS,
  type TusBackend,
} from '#services/uploads/tus_backends'

/*
 * tus 1.0.0 (core, creation, creation-with-upload, termination, expiration)
 * at /uploads, served by @tus/server inside the Adonis request (see
 * UploadsController). Who may touch an upload, and what it is for, is
 * decided here from the signed-in user and the resumable_uploads row:
 *   creation   Upload-Metadata `task`, `kind` (video|audio), `filename`;
 *              the task is the user's (else 404) with no active run (409),
 *              Upload-Length within the kind's limit (413) — before a byte
 *              is stored.
 *   HEAD/PATCH/DELETE  only the creator; anyone else gets 404.
 *   completion the bytes are sniffed and probed like any upload; accepted,
 *              the file replaces the slot's input; refused, it is deleted
 *              and the final PATCH answers 4xx with the reason.
 */

export type UploadRequestContext = { userId: string; row?: ResumableUpload; finished?: string }

/* The signed-in user of each request being served (the tus hooks only see the request). */
const contexts = new WeakMap<object, UploadRequestContext>()

type TusRequest = { method: string; runtime?: { node?: { req?: object } } }

function contextOf(req: TusRequest): UploadRequestContext {
  const node = req.runtime?.node?.req
  const context = node ? contexts.get(node) : undefined
  if (!context) throw { status_code: 401, body: errorBody('unauthenticated', 'Please log in.') }
  return context
}

function errorBody(code: string, message: string) {
  return JSON.stringify({ error: { code, message } })
}

/** A refusal in the shape @tus/server answers with (status + body). */
function refusal(error: DomainException) {
  return { status_code: error.status, body: errorBody(error.jsonCode, error.message) }
}

/**
 * Every error answer is JSON `{"error": {"code", "message"}}`, like the
 * other upload routes: ours as they are, the protocol layer's plain-text
 * ones wrapped (the limit one reworded), anything unexpected logged.
 */
function protocolError(error: Error | { status_code: number; body: string }) {
  if (error instanceof DomainException) return refusal(error)
  if (!('status_code' in error)) {
    logger.error({ err: error }, 'resumable upload failed')
    return {
      status_code: 500,
      body: errorBody('server_error', 'The upload failed on our side. Please try again.'),
    }
  }
  if (error.body.startsWith('{')) return error
  if (error.status_code === 413) {
    return refusal(new UploadRejectedException(tooLargeMessage('video'), 413))
  }
  return { status_code: error.status_code, body: errorBody('tus', error.body.trim()) }
}

const NOT_FOUND = { status_code: 404, body: errorBody('not_found', 'This upload does not exist.') }

const METADATA_HELP =
  'Upload-Metadata must carry task (the task id), kind (video or audio) and filename.'

const INPUT_KINDS: InputKind[] = ['video', 'audio']

function biggestLimit() {
  return Math.max(...INPUT_KINDS.map((kind) => maxBytesFor(kind)))
}

export class ResumableUploads {
  readonly server: Server
  readonly backend: TusBackend

  constructor(backend: TusBackend = new FileBackend()) {
    this.backend = backend
    this.server = new Server({
      path: '/uploads',
      datastore: backend.store,
      /*
       * A cut PATCH holds its upload's lock until what arrived is stored (a
       * part or a compose on a bucket): the client's next request waits for
       * it instead of @tus/server's MemoryLocker polling on every tick.
       */
      locker: new WaitingLocker(),
      relativeLocation: true,
      /* Only our own routes reach the handler; no cross-origin callers. */
      allowedOrigins: [],
      namingFunction: () => uuidv7().replaceAll('-', ''),
      /* The per-kind limit is checked (with a clear message) when the upload is created. */
      maxSize: biggestLimit(),
      onIncomingRequest: (req, id) => this.authorize(req, id),
      onUploadCreate: (req, upload) => this.create(req, upload),
      onUploadFinish: (req, upload) => this.finish(req, upload),
      onResponseError: (_req, error) => protocolError(error),
    })
    /* Termination: the row goes once the store has removed the bytes. */
    this.server.on(EVENTS.POST_TERMINATE, (_req, _res, id: string) => {
      ResumableUpload.query()
        .where('id', id)
        .delete()
        .catch((error) => logger.error({ err: error }, 'terminated upload row not deleted'))
    })
  }

  /** Serves one request for `userId` (the controller has checked the session). */
  async handle(req: IncomingMessage, userId: string, request: Request) {
    const context: UploadRequestContext = { userId }
    contexts.set(req, context)
    try {
      return await this.server.handleWeb(request)
    } finally {
      contexts.delete(req)
      if (context.finished) this.backend.release(context.finished)
    }
  }

  /** HEAD, PATCH, DELETE: only the creator of the upload; read-only. */
  private async authorize(req: TusRequest, id: string) {
    const context = contextOf(req)
    if (req.method === 'POST') return
    const row = await ResumableUpload.query()
      .withScopes((scopes) => scopes.ownedBy(context.userId))
      .where('id', id)
      .first()
    if (!row) throw NOT_FOUND
    context.row = row
  }

  private async create(req: TusRequest, upload: Upload) {
    const context = contextOf(req)
    const metadata = upload.metadata ?? {}
    const taskId = metadata.task
    const kind = metadata.kind
    const fileName = metadata.filename
    if (!taskId || !kind || !fileName)
      throw refusal(new UploadRejectedException(METADATA_HELP, 400))
    if (!INPUT_KINDS.includes(kind as InputKind)) {
      throw refusal(new UploadRejectedException('kind must be video or audio.', 400))
    }
    if (upload.sizeIsDeferred || upload.size === undefined) {
      throw refusal(
        new UploadRejectedException('Upload-Length is required (the size of the file).', 400)
      )
    }
    let target: Awaited<ReturnType<typeof uploadService.checkTarget>>
    try {
      target = await uploadService.checkTarget(context.userId, taskId, kind)
    } catch (error) {
      if (error instanceof DomainException && error.status !== 404) throw refusal(error)
      throw NOT_FOUND
    }
    if (upload.size > maxBytesFor(target.kind)) {
      throw refusal(new UploadRejectedException(tooLargeMessage(target.kind), 413))
    }
    if (upload.size === 0) {
      throw refusal(new UploadRejectedException('The file is empty. Please choose another file.'))
    }
    context.row = await ResumableUpload.create({
      id: upload.id,
      userId: context.userId,
      taskId: target.task.id,
      kind: target.kind,
      fileName: fileName.slice(0, 255),
      length: upload.size,
    })
    /* Only what we understand is kept: the stored metadata is ours, not the client's. */
    return { metadata: { task: target.task.id, kind: target.kind, filename: fileName } }
  }

  /** The last byte is in: checks, then the file becomes the input (or is deleted). */
  private async finish(req: TusRequest, upload: Upload) {
    const context = contextOf(req)
    const row = context.row ?? (await ResumableUpload.find(upload.id))
    if (!row) throw NOT_FOUND
    context.finished = row.id
    try {
      await this.backend.complete({
        id: row.id,
        taskId: row.taskId,
        kind: row.kind,
        fileName: row.fileName,
      })
    } catch (error) {
      if (error instanceof DomainException) throw refusal(error)
      if ((error as { code?: string }).code === 'E_ROW_NOT_FOUND') throw NOT_FOUND
      throw error
    } finally {
      await ResumableUpload.query().where('id', row.id).delete()
    }
    return {}
  }

  /** Account deletion: every unfinished upload of the user (bytes and rows). */
  async removeAllOf(userId: string) {
    const rows = await ResumableUpload.query().where('user_id', userId)
    for (const row of rows) {
      await this.backend.remove(row.id)
      await row.delete()
    }
    return rows.length
  }

  /** Worker: uploads created more than 24 h ago and never finished (bytes and rows). */
  async sweepExpired(now = DateTime.now()) {
    const cutoff = now.minus({ milliseconds: UPLOAD_EXPIRY_MS })
    const expired = await ResumableUpload.query()
      .where('created_at', '<', sqlTime(cutoff))
      .limit(200)
    for (const row of expired) {
      await this.backend.remove(row.id)
      await row.delete()
    }
    return expired.length
  }
}

let instance: Promise<ResumableUploads> | null = null

async function backendForDisk(): Promise<TusBackend> {
  if (mediaStorage.isS3) return ObjectBackend.forS3()
  if (mediaStorage.isGcs) return ObjectBackend.forGcs()
  return new FileBackend()
}

/**
 * One tus server per process (its locks are in memory: uploads must reach
 * one process). The bytes go into the bucket on DRIVE_DISK=s3 and gcs,
 * else to disk.
 */
export function resumableUploads() {
  instance ??= backendForDisk().then(
    (backend) => new ResumableUploads(backend),
    (error) => {
      instance = null
      throw error
    }
  )
  return instance
}
