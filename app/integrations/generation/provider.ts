import type { Readable } from 'node:stream'
import { Exception } from '@adonisjs/core/exceptions'
import type { InputKind, ModelType } from '#config/models'

export const PROVIDER_NAMES = ['local', 'http', 'sync', 'replicate', 'fal'] as const
export type ProviderName = (typeof PROVIDER_NAMES)[number]

/**
 * The generation port. A provider runs a job asynchronously: submit →
 * job id → status checks (or a webhook nudge) → an output to copy into our
 * storage. Adapters: `local` (ffmpeg on this machine), `http` (the
 * company's job API, see docs/generation-api.md), and the market's
 * lip-sync APIs `sync`, `replicate` and `fal` (docs/generation-providers.md).
 */
export interface GenerationProvider {
  readonly name: ProviderName

  /** Whether status webhooks are set up (a webhook URL is sent on submit). */
  readonly webhooks?: boolean

  /**
   * Checks a webhook delivery with the provider's own signature scheme.
   * Returns the job id it is about, or why it is refused (4xx).
   */
  verifyWebhook?(delivery: WebhookDelivery): Promise<WebhookVerdict>

  /** Starts a job. `reference` (our run id) makes a repeated submit safe. */
  submit(request: SubmitRequest, signal?: AbortSignal): Promise<{ jobId: string }>

  /** The job created for `reference`, if a submit of ours ever reached the provider. */
  findByReference(reference: string, signal?: AbortSignal): Promise<string | null>

  /** `route`: the model route the job was submitted with (fal's paths need its app id). */
  getStatus(jobId: string, signal?: AbortSignal, route?: ProviderRoute): Promise<JobStatus>

  /** The finished job's output as a stream (to copy into our storage). */
  openOutput(jobId: string, status: JobStatus, signal?: AbortSignal): Promise<Readable>

  /** Best effort: stop a job we gave up on. */
  cancel(jobId: string, route?: ProviderRoute): Promise<void>

  /** Drops provider-side leftovers once the output is safely ours. */
  release(jobId: string): Promise<void>
}

export type JobInput = {
  kind: InputKind
  /** Key of the file in our storage (the local provider reads it directly). */
  storageKey: string
  /** Signed, expiring URL of the file on our app (the http provider downloads it). */
  url: string
  contentType: string
  size: number
}

export type SubmitRequest = {
  reference: string
  model: ModelType
  inputs: JobInput[]
  /** Length of the clip to make: the shortest required input, in seconds. */
  clipSeconds: number
  /** Where the provider may POST signed status updates (absent: polling only). */
  webhookUrl?: string
  /** This provider's model id and options for `model` (config/models.ts). */
  route?: ProviderRoute
}

/** One provider able to run a model: its own model id and options. */
export type ProviderRoute = {
  provider: 'sync' | 'replicate' | 'fal'
  model: string
  options?: Record<string, string | number | boolean>
}

export type WebhookDelivery = {
  headers: Record<string, string | string[] | undefined>
  rawBody: string
  now?: number
}

export type WebhookVerdict =
  { ok: true; jobId: string } | { ok: false; status: 400 | 401 | 404; reason: string }

/** Our view of a job, whatever words the provider uses. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'not_found'

export type JobStatus = {
  state: JobState
  /** The provider's own status word, kept for support. */
  providerStatus: string
  /** Why it failed, in words fit for the customer (never the provider's raw text). */
  error?: string
  /** The provider's own error text and code, for support (log and run row only). */
  rawError?: string
  outputUrl?: string
}

/**
 * A call to the provider failed. `transient` errors (network, timeouts,
 * 5xx) are retried with backoff until the run's deadline; others are final.
 */
export class ProviderError extends Exception {
  static status = 502
  static code = 'E_GENERATION_PROVIDER'

  constructor(
    message: string,
    public transient: boolean,
    public httpStatus?: number,
    /** From a 429/503 `Retry-After`: do not call this provider again before then. */
    public retryAfterMs?: number
  ) {
    super(message)
  }
}

/** The output could not be fetched (expired or gone); a fresh status may give a new URL. */
export class OutputUnavailable extends ProviderError {
  constructor(message: string, httpStatus?: number) {
    super(message, true, httpStatus)
  }
}

/* What a customer is told when a provider fails a job: always one of our sentences. */
export const FAILURE_GENERIC = 'The generation service could not make this clip.'
export const FAILURE_REJECTED = 'The generation service refused this content.'
export const FAILURE_CANCELED = 'The generation service canceled this job.'
export const FAILURE_NO_FACE = 'No face was found in the video.'
export const FAILURE_INPUTS = 'The generation service could not read your files.'
export const FAILURE_TOO_LONG = 'The generation service took too long.'

/**
 * Picks the customer's sentence for a provider's raw error text/code (which
 * itself is never shown: it goes to the log and the run row for support).
 */
export function customerMessage(raw: string | undefined, fallback = FAILURE_GENERIC) {
  const text = (raw ?? '').toLowerCase()
  if (/face/.test(text)) return FAILURE_NO_FACE
  if (
    /(download|fetch|unreadable|decode|invalid (input|media|file)|unsupported|corrupt)/.test(text)
  )
    return FAILURE_INPUTS
  if (/(nsfw|moderation|content polic|safety)/.test(text)) return FAILURE_REJECTED
  if (/(timed? ?out|timeout)/.test(text)) return FAILURE_TOO_LONG
  return fallback
}

/** The provider's error, shortened for the run row (support reads it there). */
export function rawErrorText(...parts: unknown[]) {
  const text = parts
    .filter((part) => part !== undefined && part !== null && part !== '')
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
    .join(': ')
  return text ? text.slice(0, 1000) : undefined
}
