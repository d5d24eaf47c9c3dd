import type { HttpContext } from '@adonisjs/core/http'
import { Exception } from '@adonisjs/core/exceptions'
import Run from '#models/run'
import { INPUT_URL_PURPOSE } from '#services/tasks/signing'
import { sendStoredFile } from '#presenters/media_response'

/**
 * Input files for the generation provider: no session, the signed,
 * expiring URL is the permission, and only while the run is active.
 */
export default class GenerationInputsController {
  async show(ctx: HttpContext) {
    const { params, request } = ctx
    if (!request.hasValidSignature(INPUT_URL_PURPOSE)) {
      throw new Exception('This link is not valid or has expired.', { status: 403 })
    }
    const run = await Run.query()
      .where('id', String(params.runId))
      .withScopes((scopes) => scopes.active())
      .first()
    const input = run?.inputs.find((candidate) => candidate.kind === params.kind)
    if (!run || !input) throw new Exception('Not found', { status: 404 })
    return sendStoredFile(ctx, {
      key: input.storageKey,
      contentType: input.type,
      fileName: `${run.id}-${input.kind}`,
      disposition: 'attachment',
    })
  }
}
