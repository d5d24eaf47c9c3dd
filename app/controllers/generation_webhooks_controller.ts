import type { HttpContext } from '@adonisjs/core/http'
import generationConfig from '#config/generation'
import { webhookSignatureValid } from '#services/tasks/signing'
import logger from '@adonisjs/core/services/logger'
import { nudgeJob } from '#jobs/generation_runs_job'
import { hasCredentials } from '#integrations/generation/main'
import { providerNamed } from '#services/tasks/provider_routing'

const HOSTED = new Set(['sync', 'replicate', 'fal'])

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

  /**
   * `POST /webhooks/generation/:provider` for the hosted providers, each
   * verified with its own scheme (sync.so Sync-Signature, Replicate
   * Standard Webhooks, fal ED25519). Forged or stale: 401, nothing
   * changes. Valid (duplicates too): the run is checked now; its status is
   * still read from the provider's API. `?run=` is the run id we put in the
   * URL, so a webhook that beats the submit's answer still finds its run.
   */
  async hosted({ params, request, response }: HttpContext) {
    const name = String(params.provider)
    if (!HOSTED.has(name) || !hasCredentials(name))
      return response.notFound({
        error: { code: 'unknown_provider', message: 'No such generation provider.' },
      })
    const provider = providerNamed(name)
    const verdict = await provider.verifyWebhook!({
      headers: request.headers(),
      rawBody: request.raw() ?? '',
    })
    if (!verdict.ok) {
      logger.warn({ provider: name, reason: verdict.reason }, 'generation webhook refused')
      const code =
        verdict.status === 401 ? 'bad_signature' : verdict.status === 404 ? 'disabled' : 'bad_body'
      const message =
        verdict.status === 401
          ? 'Invalid signature.'
          : verdict.status === 404
            ? 'Webhooks are not enabled.'
            : 'The body must name the job.'
      return response.status(verdict.status).send({ error: { code, message } })
    }
    const run = request.qs().run
    await nudgeJob(
      name,
      verdict.jobId,
      typeof run === 'string' && run.length <= 64 ? run : undefined
    )
    return response.noContent()
  }
}
