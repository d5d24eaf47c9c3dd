import { timingSafeEqual } from 'node:crypto'
import type { Readable } from 'node:stream'
import {
  FAILURE_CANCELED,
  FAILURE_GENERIC,
  ProviderError,
  customerMessage,
  rawErrorText,
  type GenerationProvider,
  type JobState,
  type JobStatus,
  type SubmitRequest,
  type WebhookDelivery,
  type WebhookVerdict,
} from '#integrations/generation/provider'
import {
  asObject,
  callJson,
  headerValue,
  getStatusObject,
  stateOf,
  openOutputUrl,
  statusWord,
} from '#integrations/generation/provider_http'
import {
  standardWebhookKey,
  standardWebhookSignature,
} from '#integrations/generation/webhook_signatures'

export type ReplicateOptions = {
  apiToken: string
  baseUrl: string
  /** `whsec_<base64>` from `GET /v1/webhooks/default/secret`; the key is the decoded part. */
  webhookSecret: string
  requestTimeoutMs: number
}

const STATES: Record<string, JobState> = {
  starting: 'queued',
  processing: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'failed',
  aborted: 'failed',
}

export const REPLICATE_WEBHOOK_TOLERANCE_SECONDS = 300

export { standardWebhookKey, standardWebhookSignature }

/** The output URL of a prediction: a URL, a list of URLs, or (some models) `{url}`. */
function outputUrlOf(output: unknown): string | undefined {
  if (typeof output === 'string') return output
  if (Array.isArray(output)) return output.map(outputUrlOf).find(Boolean)
  const object = asObject(output)
  if (object) return outputUrlOf(object.url ?? object.video)
  return undefined
}

/**
 * Replicate's predictions API over fetch (the `replicate` package takes a
 * base URL but sleeps through 429s and retries inside the call, and reads
 * whole answers). Outputs are deleted one hour after the prediction: the
 * worker copies them at once.
 */
export class ReplicateProvider implements GenerationProvider {
  readonly name = 'replicate' as const

  constructor(private options: ReplicateOptions) {}

  get webhooks() {
    return !!this.options.webhookSecret
  }

  private url(path: string) {
    if (!this.options.baseUrl || !this.options.apiToken)
      throw new ProviderError('Replicate is not configured (REPLICATE_API_TOKEN)', false)
    return new URL(path, this.options.baseUrl.replace(/\/*$/, '/'))
  }

  private headers() {
    return { Authorization: `Bearer ${this.options.apiToken}` }
  }

  async submit(request: SubmitRequest, signal?: AbortSignal) {
    const route = request.route
    if (!route || route.provider !== 'replicate')
      throw new ProviderError(`Replicate cannot run model ${request.model.key}`, false)
    const input: Record<string, unknown> = { sync_mode: 'cut_off', ...route.options }
    for (const file of request.inputs) input[file.kind] = file.url
    const body: Record<string, unknown> = { input }
    if (request.webhookUrl) {
      body.webhook = request.webhookUrl
      body.webhook_events_filter = ['completed']
    }
    /* `owner/name` runs an official model; `owner/name:version` a pinned version. */
    const [name, version] = route.model.split(':')
    let path = 'v1/predictions'
    if (version) body.version = version
    else path = `v1/models/${name.split('/').map(encodeURIComponent).join('/')}/predictions`
    const { data } = await callJson<Record<string, unknown>>({
      label: 'replicate POST predictions',
      method: 'POST',
      url: this.url(path),
      headers: this.headers(),
      body,
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    const id = asObject(data)?.id
    if (typeof id !== 'string' || !id)
      throw new ProviderError('replicate POST predictions answered without an id', true)
    return { jobId: id }
  }

  /*
   * Replicate has no idempotency key. After a submit whose answer was lost,
   * the newest predictions are searched for ours: its webhook URL or its
   * input URLs carry our run id.
   */
  async findByReference(reference: string, signal?: AbortSignal) {
    const { data } = await callJson<Record<string, unknown>>({
      label: 'replicate GET /v1/predictions',
      method: 'GET',
      url: this.url('v1/predictions'),
      headers: this.headers(),
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    const results = asObject(data)?.results
    if (!Array.isArray(results)) return null
    const found = results.map(asObject).find((prediction) => {
      if (!prediction || typeof prediction.id !== 'string') return false
      const places = [prediction.webhook, ...Object.values(asObject(prediction.input) ?? {})]
      return places.some((place) => typeof place === 'string' && place.includes(reference))
    })
    return found ? String(found.id) : null
  }

  async getStatus(jobId: string, signal?: AbortSignal): Promise<JobStatus> {
    const prediction = await getStatusObject('replicate', {
      label: 'replicate GET /v1/predictions/{id}',
      url: this.url(`v1/predictions/${encodeURIComponent(jobId)}`),
      headers: this.headers(),
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    if (prediction === null) return { state: 'not_found', providerStatus: 'not_found' }
    const word = String(prediction.status ?? '').toLowerCase()
    const state = stateOf('replicate', STATES, word)
    const status: JobStatus = { state, providerStatus: statusWord(word) }
    if (state === 'failed') {
      status.rawError = rawErrorText(word, prediction.error) ?? word
      status.error =
        word === 'failed'
          ? customerMessage(String(prediction.error ?? ''), FAILURE_GENERIC)
          : FAILURE_CANCELED
    }
    if (state === 'succeeded') {
      status.outputUrl = outputUrlOf(prediction.output)
      if (!status.outputUrl) {
        /* Succeeded without an output: nothing to collect, ever. */
        status.state = 'failed'
        status.rawError = rawErrorText('succeeded without output', prediction.output)
        status.error = FAILURE_GENERIC
      }
    }
    return status
  }

  async openOutput(_jobId: string, status: JobStatus, signal?: AbortSignal): Promise<Readable> {
    return openOutputUrl(status.outputUrl, {
      label: 'replicate',
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
  }

  async cancel(jobId: string) {
    await callJson({
      label: 'replicate POST cancel',
      method: 'POST',
      url: this.url(`v1/predictions/${encodeURIComponent(jobId)}/cancel`),
      headers: this.headers(),
      timeoutMs: this.options.requestTimeoutMs,
      notFoundIsNull: true,
    }).catch(() => {})
  }

  /* Replicate deletes a prediction's files itself after an hour. */
  async release() {}

  async verifyWebhook(delivery: WebhookDelivery): Promise<WebhookVerdict> {
    const secret = this.options.webhookSecret
    if (!secret) return { ok: false, status: 404, reason: 'Replicate webhooks are not enabled' }
    const id = headerValue(delivery.headers, 'webhook-id') ?? ''
    const timestamp = headerValue(delivery.headers, 'webhook-timestamp') ?? ''
    const signatures = (headerValue(delivery.headers, 'webhook-signature') ?? '').split(' ')
    if (!id || !/^\d{1,12}$/.test(timestamp) || !signatures[0])
      return { ok: false, status: 401, reason: 'missing Standard Webhooks headers' }
    const now = (delivery.now ?? Date.now()) / 1000
    if (Math.abs(now - Number(timestamp)) > REPLICATE_WEBHOOK_TOLERANCE_SECONDS)
      return { ok: false, status: 401, reason: 'stale webhook-timestamp' }
    const expected = Buffer.from(
      standardWebhookSignature(secret, id, timestamp, delivery.rawBody).slice(3),
      'base64'
    )
    const valid = signatures.some((entry) => {
      const [version, value] = entry.split(',')
      if (version !== 'v1' || !value) return false
      const given = Buffer.from(value, 'base64')
      return given.length === expected.length && timingSafeEqual(given, expected)
    })
    if (!valid) return { ok: false, status: 401, reason: 'bad webhook-signature' }
    let prediction: Record<string, any> | null
    try {
      prediction = asObject(JSON.parse(delivery.rawBody))
    } catch {
      prediction = null
    }
    if (typeof prediction?.id !== 'string' || !prediction.id)
      return { ok: false, status: 400, reason: 'the body names no prediction id' }
    return { ok: true, jobId: prediction.id }
  }
}
