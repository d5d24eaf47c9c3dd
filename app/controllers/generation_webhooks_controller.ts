import type { HttpContext } from '@adonisjs/core/http'
import generationConfig from '#config/generation'
import { webhookSignatureValid } from '#services/tasks/signing'
import { nudgeJob } from '#jobs/generation_runs_job'

/**
 * Status webhooks from the generation API. The signature is checked over
 * the raw body; a valid one only makes the worker check that job now (the
 * job's status is always read from the API itself, so a replayed or stale
 * webhook cannot change a run). Polling works without webhooks.
 */
export default class GenerationWebhooksController {
  async store({ request, response }: HttpContext) {
    const secret = generationConfig.http.webhookSecret
    if (!secret)
      return response.notFound({
        error: { code: 'disabled', message: 'Webhooks are not enabled.' },
      })
    const raw = request.raw() ?? ''
    const valid = webhookSignatureValid(
      secret,
      request.header('x-timestamp'),
      request.header('x-signature'),
      raw
    )
    if (!valid)
      return response.unauthorized({
        error: { code: 'bad_signature', message: 'Invalid signature.' },
      })
    let jobId: unknown
    try {
      const body = JSON.parse(raw)
      jobId = body?.id ?? body?.job_id
    } catch {
      jobId = null
    }
    if (typeof jobId !== 'string' || !jobId) {
      return response.badRequest({
        error: { code: 'bad_body', message: 'The body must name the job (id).' },
      })
    }
    await nudgeJob('http', jobId)
    return response.noContent()
  }
}
