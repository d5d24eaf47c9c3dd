import type { HttpContext } from '@adonisjs/core/http'
import { cutOffBody } from '#helpers/cut_off_body'
import type { InputKind } from '#config/models'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import uploadService, {
  maxBytesFor,
  tooLargeMessage,
  type StagedUpload,
} from '#services/tasks/upload_service'
import DomainException from '#exceptions/domain_exception'
import { UploadRejectedException } from '#exceptions/task_exceptions'
import TaskPolicy from '#policies/task_policy'
import { INCOMPLETE_UPLOAD, readFilePart } from '#services/tasks/multipart_file'
import { takeUploadSlot, TOO_MANY_UPLOADS } from '#services/tasks/upload_slots'
import { sendStoredFile } from '#presenters/media_response'
import { inputView } from '#presenters/tasks'

/* Multipart framing and form fields around the file never come near this. */
const MULTIPART_OVERHEAD = 64 * 1024
/* Body types the raw upload takes (the real type is judged from the bytes anyway). */
const RAW_TYPES = ['application/octet-stream', 'video/*', 'audio/*']

function wantsJson({ request }: HttpContext) {
  return request.ajax() || request.accepts(['html', 'json']) === 'json'
}

/** The original file name sent with a raw upload: URL-encoded, as header values are ASCII. */
function headerFileName(value: string | undefined) {
  if (!value) return ''
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

type Stager = (kind: InputKind) => Promise<StagedUpload | null>

export default class TaskInputsController {
  /**
   * The task page's uploader: `PUT /tasks/:id/inputs/:kind` with the file
   * itself as the body (`Content-Type: application/octet-stream`), its name
   * in `X-File-Name` (URL-encoded) and the CSRF token in `X-CSRF-Token`.
   * Bodyparser leaves such bodies alone, so the socket's bytes go straight
   * to the staging file: no multipart parsing. Always answers JSON.
   */
  async upload(ctx: HttpContext) {
    const { request } = ctx
    const type = request.header('content-type')
    return this.receive(ctx, 0, true, async (kind) => {
      if (type && !request.is(RAW_TYPES)) {
        throw new UploadRejectedException(
          'Send the file itself as the request body (Content-Type: application/octet-stream).',
          415
        )
      }
      return uploadService.stage(
        kind,
        request.request,
        headerFileName(request.header('x-file-name'))
      )
    })
  }

  /**
   * The upload form without JavaScript (multipart). Bodyparser never
   * parses multipart bodies (config/bodyparser.ts): the file part streams
   * to a staging file here, never buffered in memory, never over the limit.
   */
  async store(ctx: HttpContext) {
    const { request } = ctx
    return this.receive(ctx, MULTIPART_OVERHEAD, wantsJson(ctx), async (kind) => {
      if (!request.is(['multipart/form-data'])) return null
      return readFilePart(
        request.request,
        'file',
        (part, fileName) => uploadService.stage(kind, part, fileName),
        (staged) => uploadService.discard(staged)
      )
    })
  }

  /**
   * Shared by both uploads: owner, slot and policy check, early size check,
   * staging, probe, store. Refusals are exceptions the handler renders (JSON
   * for the uploader, a flash message on the task page for the form).
   */
  private async receive(ctx: HttpContext, overhead: number, json: boolean, stage: Stager) {
    const { request, response, auth, params, session, bouncer } = ctx
    const user = auth.getUserOrFail()
    const release = takeUploadSlot(user.id)
    try {
      if (!release) throw new UploadRejectedException(TOO_MANY_UPLOADS, 429)
      const task = await taskService.findOwned(user, params.id)
      const kind = uploadService.inputKindOf(task, params.kind)
      await bouncer.with(TaskPolicy).authorize('replaceInput', task)

      const declared = Number(request.header('content-length'))
      if (Number.isFinite(declared) && declared > maxBytesFor(kind) + overhead) {
        throw new UploadRejectedException(tooLargeMessage(kind), 413)
      }
      let staged: StagedUpload | null
      try {
        staged = await stage(kind)
      } catch (error) {
        /* Not a refusal while reading the body: the client went away or sent a broken body. */
        throw error instanceof DomainException
          ? error
          : new UploadRejectedException(INCOMPLETE_UPLOAD, 400)
      }
      if (!staged) throw new UploadRejectedException('Please choose a file to upload.')

      const input = await uploadService.accept(task, kind, staged)
      if (json) return response.status(201).send({ input: inputView(input) })
      session.flash('success', `${input.kind === 'video' ? 'Video' : 'Audio'} uploaded.`)
      return response.redirect(`/tasks/${task.id}`)
    } catch (error) {
      cutOffBody(ctx)
      /* A refusal goes back to the task page, where the form without JavaScript is. */
      if (error instanceof DomainException) error.redirectTo ??= `/tasks/${params.id}`
      throw error
    } finally {
      release?.()
    }
  }

  /** The uploaded file itself, for the preview player (owner only, Range supported). */
  async show(ctx: HttpContext) {
    const { auth, params } = ctx
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user, params.id)
    const input = await TaskInput.query()
      .where('taskId', task.id)
      .where('kind', String(params.kind))
      .firstOrFail()
    return sendStoredFile(ctx, {
      key: input.storageKey,
      contentType: input.mimeType,
      fileName: input.originalName,
      disposition: 'inline',
    })
  }
}
