import { timingSafeEqual } from 'node:crypto'
import type { Readable } from 'node:stream'
import {
  FAILURE_CANCELED,
  FAILURE_GENERIC,
  FAILURE_REJECTED,
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
import { syncSignature } from '#integrations/generation/webhook_signatures'

export type SyncOptions = {
  apiKey: string
  baseUrl: string
  /** `whsec_…` as configured; used as the HMAC key exactly as it is (not decoded). */
  webhookSecret: string
  requestTimeoutMs: number
}

/* sync.so's generation statuses (API v2) mapped onto ours. */
const STATES: Record<string, JobState> = {
  PENDING: 'queued',
  PROCESSING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  REJECTED: 'failed',
  CANCELED: 'failed',
  CANCELLED: 'failed',
}

/** Webhooks older (or further in the future) than this are refused. */
export const SYNC_WEBHOOK_TOLERANCE_SECONDS = 300

export { syncSignature }

/**
 * sync.so, API v2 (`POST /v2/generate`, `GET /v2/generate/{id}`), over
 * fetch: the official SDK takes a base URL but reads every answer whole
 * and retries on its own (see docs/generation-providers.md).
 */
export class SyncProvider implements GenerationProvider {
  readonly name = 'sync' as const

  constructor(private options: SyncOptions) {}

  get webhooks() {
    return !!this.options.webhookSecret
  }

  private url(path: string) {
    if (!this.options.baseUrl || !this.options.apiKey)
      throw new ProviderError('sync.so is not configured (SYNC_API_KEY)', false)
    return new URL(path, this.options.baseUrl.replace(/\/*$/, '/'))
  }

  private headers(extra: Record<string, string> = {}) {
    return { 'x-api-key': this.options.apiKey, ...extra }
  }

  async submit(request: SubmitRequest, signal?: AbortSignal) {
    const route = request.route
    if (!route || route.provider !== 'sync')
      throw new ProviderError(`sync.so cannot run model ${request.model.key}`, false)
    const input = request.inputs.map((file) => ({ type: file.kind, url: file.url }))
    const { data } = await callJson<Record<string, unknown>>({
      label: 'sync POST /v2/generate',
      method: 'POST',
      url: this.url('v2/generate'),
      /* Same key on a retry: sync.so answers with the generation it already made. */
      headers: this.headers({ 'Idempotency-Key': request.reference }),
      body: {
        model: route.model,
        input,
        options: { sync_mode: 'cut_off', ...route.options },
        ...(request.webhookUrl ? { webhookUrl: request.webhookUrl } : {}),
      },
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    const id = asObject(data)?.id
    if (typeof id !== 'string' || !id)
      throw new ProviderError('sync POST /v2/generate answered without an id', true)
    return { jobId: id }
  }

  /* The Idempotency-Key makes a repeated submit return the first generation. */
  async findByReference() {
    return null
  }

  async getStatus(jobId: string, signal?: AbortSignal): Promise<JobStatus> {
    const generation = await getStatusObject('sync', {
      label: 'sync GET /v2/generate/{id}',
      url: this.url(`v2/generate/${encodeURIComponent(jobId)}`),
      headers: this.headers(),
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
    if (generation === null) return { state: 'not_found', providerStatus: 'not_found' }
    const word = String(generation.status ?? '').toUpperCase()
    const state = stateOf('sync', STATES, word)
    const status: JobStatus = { state, providerStatus: statusWord(word) }
    if (state === 'failed') {
      status.rawError = rawErrorText(word, generation.error_code, generation.error) ?? word
      const fallback =
        word === 'REJECTED'
          ? FAILURE_REJECTED
          : word.startsWith('CANCEL')
            ? FAILURE_CANCELED
            : FAILURE_GENERIC
      status.error = customerMessage(
        `${generation.error_code ?? ''} ${generation.error ?? ''}`,
        fallback
      )
    }
    if (state === 'succeeded') {
      status.outputUrl = typeof generation.outputUrl === 'string' ? generation.outputUrl : undefined
    }
    return status
  }

  async openOutput(_jobId: string, status: JobStatus, signal?: AbortSignal): Promise<Readable> {
    return openOutputUrl(status.outputUrl, {
      label: 'sync',
      signal,
      timeoutMs: this.options.requestTimeoutMs,
    })
  }

  /*
   * The v2 API (and its SDK) publishes no cancel endpoint: a job we gave
   * up on finishes on sync.so's side and is simply not collected.
   */
  async cancel() {}

  async release() {}

  async verifyWebhook(delivery: WebhookDelivery): Promise<WebhookVerdict> {
    const secret = this.options.webhookSecret
    if (!secret) return { ok: false, status: 404, reason: 'sync.so webhooks are not enabled' }
    const signature = headerValue(delivery.headers, 'sync-signature') ?? ''
    const parts = new Map<string, string[]>()
    for (const piece of signature.split(',')) {
      const [key, ...rest] = piece.trim().split('=')
      if (!key || !rest.length) continue
      parts.set(key, [...(parts.get(key) ?? []), rest.join('=')])
    }
    const timestamp = parts.get('t')?.[0] ?? ''
    const candidates = parts.get('v1') ?? []
    if (!/^\d{1,12}$/.test(timestamp) || !candidates.length)
      return { ok: false, status: 401, reason: 'missing or malformed Sync-Signature' }
    const now = (delivery.now ?? Date.now()) / 1000
    if (Math.abs(now - Number(timestamp)) > SYNC_WEBHOOK_TOLERANCE_SECONDS)
      return { ok: false, status: 401, reason: 'stale Sync-Signature timestamp' }
    const expected = Buffer.from(syncSignature(secret, timestamp, delivery.rawBody), 'hex')
    const valid = candidates.some((candidate) => {
      const given = /^[0-9a-f]+$/i.test(candidate) ? Buffer.from(candidate, 'hex') : Buffer.alloc(0)
      return given.length === expected.length && timingSafeEqual(given, expected)
    })
    if (!valid) return { ok: false, status: 401, reason: 'bad Sync-Signature' }
    let body: Record<string, any> | null = null
    try {
      body = asObject(JSON.parse(delivery.rawBody))
    } catch {
      body = null
    }
    /* The generation object, or (seen in some examples) wrapped in `result`/`data`. */
    const id = body?.id ?? body?.result?.id ?? body?.data?.id
    if (typeof id !== 'string' || !id)
      return { ok: false, status: 400, reason: 'the body names no generation id' }
    return { ok: true, jobId: id }
  }
}
