import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import type { Readable } from 'node:stream'
import logger from '@adonisjs/core/services/logger'
import {
  FAILURE_GENERIC,
  ProviderError,
  customerMessage,
  rawErrorText,
  type GenerationProvider,
  type JobState,
  type JobStatus,
  type ProviderRoute,
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
import { falSignedMessage } from '#integrations/generation/webhook_signatures'

export type FalOptions = {
  key: string
  queueUrl: string
  /** fal's published ED25519 keys (JWKS). */
  jwksUrl: string
  requestTimeoutMs: number
  /** Send `fal_webhook` on submit (verification needs only the public keys). */
  webhooks: boolean
}

const STATES: Record<string, JobState> = {
  IN_QUEUE: 'queued',
  IN_PROGRESS: 'running',
  COMPLETED: 'succeeded',
}

export const FAL_WEBHOOK_TOLERANCE_SECONDS = 300
/* fal says its keys may be cached for up to a day; an unknown signature refreshes sooner. */
const JWKS_TTL_MS = 24 * 3600_000
const JWKS_MIN_REFRESH_MS = 60_000

export { falSignedMessage }

/**
 * The queue paths of a request live under the app id (`owner/alias`), not
 * the full model id: `fal-ai/sync-lipsync/v3` → `fal-ai/sync-lipsync`.
 */
export function falAppId(modelId: string) {
  return modelId.split('/').slice(0, 2).join('/')
}

function videoUrlOf(result: Record<string, any>): string | undefined {
  const video = result.video ?? result.output ?? result.payload?.video
  if (typeof video === 'string') return video
  if (typeof video?.url === 'string') return video.url
  return undefined
}

/**
 * fal.ai's queue API over fetch (`@fal-ai/client` builds every URL on
 * `fal.run` itself; it has no base URL). A request's errors show up on its
 * result, not on its status.
 */
export class FalProvider implements GenerationProvider {
  readonly name = 'fal' as const
  private keys: { at: number; keys: KeyObject[] } | null = null
  private keysLoading: Promise<KeyObject[]> | null = null

  constructor(private options: FalOptions) {}

  get webhooks() {
    return this.options.webhooks
  }

  private url(path: string) {
    if (!this.options.queueUrl || !this.options.key)
      throw new ProviderError('fal is not configured (FAL_KEY)', false)
    return new URL(path, this.options.queueUrl.replace(/\/*$/, '/'))
  }

  private headers() {
    return { Authorization: `Key ${this.options.key}` }
  }

  private requestPath(jobId: string, route: ProviderRoute | undefined, suffix = '') {
    if (!route || route.provider !== 'fal')
      throw new ProviderError('fal job without its model route', false)
    const app = falAppId(route.model).split('/').map(encodeURIComponent).join('/')
    return `${app}/requests/${encodeURIComponent(jobId)}${suffix}`
  }

  async submit(request: SubmitRequest, signal?: AbortSignal) {
    const route = request.route
    if (!route || route.provider !== 'fal')
      throw new ProviderError(`fal cannot run model ${request.model.key}`, false)
    const body: Record<string, unknown> = { sync_mode: 'cut_off', ...route.options }
    for (const file of request.inputs) body[`${file.kind}_url`] = file.url
    const url = this.url(route.model.split('/').map(encodeURIComponent).join('/'))
    if (request.webhookUrl) url.searchParams.set('fal_webhook', request.webhookUrl)
    const { data } = await callJson<Record<string, unknown>>({
      label: 'fal POST submit',
      method: 'POST',
      url,
      headers: this.headers(),
      body,
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    const id = asObject(data)?.request_id
    if (typeof id !== 'string' || !id)
      throw new ProviderError('fal submit answered without a request_id', true)
    return { jobId: id }
  }

  /* The queue has no idempotency key and no search by our reference. */
  async findByReference() {
    return null
  }

  async getStatus(jobId: string, signal?: AbortSignal, route?: ProviderRoute): Promise<JobStatus> {
    const answer = await getStatusObject('fal', {
      label: 'fal GET status',
      url: this.url(this.requestPath(jobId, route, '/status')),
      headers: this.headers(),
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    if (answer === null) return { state: 'not_found', providerStatus: 'not_found' }
    const word = String(answer.status ?? '').toUpperCase()
    const state = stateOf('fal', STATES, word)
    if (state !== 'succeeded') return { state, providerStatus: statusWord(word) }
    if (answer.error) return this.failed(word, answer.error_type, answer.error)
    return this.result(jobId, route, signal)
  }

  private failed(word: string, ...raw: unknown[]): JobStatus {
    const rawError = rawErrorText(word, ...raw) ?? word
    return {
      state: 'failed',
      providerStatus: statusWord(word === 'COMPLETED' ? 'ERROR' : word),
      rawError,
      error: customerMessage(rawError, FAILURE_GENERIC),
    }
  }

  /** A COMPLETED request: its result says whether it worked. */
  private async result(jobId: string, route: ProviderRoute | undefined, signal?: AbortSignal) {
    let result: Record<string, any> | null
    try {
      const { data } = await callJson<Record<string, unknown>>({
        label: 'fal GET result',
        method: 'GET',
        url: this.url(this.requestPath(jobId, route)),
        headers: this.headers(),
        signal,
        timeoutMs: this.options.requestTimeoutMs,
        notFoundIsNull: true,
      })
      if (data === null) return { state: 'not_found', providerStatus: 'not_found' } as JobStatus
      result = asObject(data)
    } catch (error) {
      /* A 4xx result (e.g. 422 with `detail`) is the request's own error. */
      if (error instanceof ProviderError && !error.transient)
        return this.failed('ERROR', error.message)
      throw error
    }
    if (!result) throw new ProviderError('fal result is not an object', true)
    if (result.error || result.detail) return this.failed('ERROR', result.error ?? result.detail)
    const outputUrl = videoUrlOf(result)
    if (!outputUrl) return this.failed('ERROR', 'completed without a video', result)
    return { state: 'succeeded', providerStatus: 'COMPLETED', outputUrl } as JobStatus
  }

  async openOutput(_jobId: string, status: JobStatus, signal?: AbortSignal): Promise<Readable> {
    return openOutputUrl(status.outputUrl, {
      label: 'fal',
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
  }

  async cancel(jobId: string, route?: ProviderRoute) {
    await callJson({
      label: 'fal PUT cancel',
      method: 'PUT',
      url: this.url(this.requestPath(jobId, route, '/cancel')),
      headers: this.headers(),
      timeoutMs: this.options.requestTimeoutMs,
      notFoundIsNull: true,
    }).catch(() => {})
  }

  /* fal keeps outputs for at least 7 days and removes them itself. */
  async release() {}

  async verifyWebhook(delivery: WebhookDelivery): Promise<WebhookVerdict> {
    if (!this.options.webhooks)
      return { ok: false, status: 404, reason: 'fal webhooks are not enabled' }
    const requestId = headerValue(delivery.headers, 'x-fal-webhook-request-id') ?? ''
    const userId = headerValue(delivery.headers, 'x-fal-webhook-user-id') ?? ''
    const timestamp = headerValue(delivery.headers, 'x-fal-webhook-timestamp') ?? ''
    const signature = (headerValue(delivery.headers, 'x-fal-webhook-signature') ?? '').trim()
    if (!requestId || !userId || !/^\d{1,12}$/.test(timestamp) || !signature)
      return { ok: false, status: 401, reason: 'missing X-Fal-Webhook-* headers' }
    const now = (delivery.now ?? Date.now()) / 1000
    if (Math.abs(now - Number(timestamp)) > FAL_WEBHOOK_TOLERANCE_SECONDS)
      return { ok: false, status: 401, reason: 'stale X-Fal-Webhook-Timestamp' }
    const signatureBytes = /^[0-9a-f]{128}$/i.test(signature)
      ? Buffer.from(signature, 'hex')
      : Buffer.from(signature, 'base64')
    if (signatureBytes.length !== 64) return { ok: false, status: 401, reason: 'bad signature' }
    const message = falSignedMessage(requestId, userId, timestamp, delivery.rawBody)
    const check = (keys: KeyObject[]) =>
      keys.some((key) => {
        try {
          return verify(null, message, key, signatureBytes)
        } catch {
          return false
        }
      })
    let valid = check(await this.publicKeys())
    if (!valid && this.keys && Date.now() - this.keys.at > JWKS_MIN_REFRESH_MS)
      valid = check(await this.publicKeys(true))
    if (!valid) return { ok: false, status: 401, reason: 'bad X-Fal-Webhook-Signature' }
    let body: Record<string, any> | null
    try {
      body = asObject(JSON.parse(delivery.rawBody))
    } catch {
      body = null
    }
    const id = body?.request_id ?? requestId
    if (typeof id !== 'string' || id !== requestId)
      return { ok: false, status: 400, reason: 'the body names another request' }
    return { ok: true, jobId: id }
  }

  /** fal's ED25519 public keys, cached; a failed refresh keeps the old ones. */
  private async publicKeys(refresh = false): Promise<KeyObject[]> {
    const fresh = this.keys && Date.now() - this.keys.at < JWKS_TTL_MS
    if (this.keys && fresh && !refresh) return this.keys.keys
    this.keysLoading ??= this.loadKeys().finally(() => (this.keysLoading = null))
    try {
      const keys = await this.keysLoading
      this.keys = { at: Date.now(), keys }
      return keys
    } catch (error) {
      logger.warn({ err: error }, 'fal webhook keys could not be loaded')
      return this.keys?.keys ?? []
    }
  }

  private async loadKeys() {
    const { data } = await callJson<Record<string, unknown>>({
      label: 'fal GET JWKS',
      method: 'GET',
      url: this.options.jwksUrl,
      timeoutMs: this.options.requestTimeoutMs,
    })
    const list = asObject(data)?.keys
    if (!Array.isArray(list)) throw new Error('JWKS without keys')
    const keys: KeyObject[] = []
    for (const jwk of list) {
      if (asObject(jwk)?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
        continue
      try {
        keys.push(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }))
      } catch {
        /* A malformed key is skipped; the others still verify. */
      }
    }
    return keys
  }
}
