import type { Readable } from 'node:stream'
import { Exception } from '@adonisjs/core/exceptions'
import type { InputKind, ModelType } from '#config/models'

/**
 * The generation port. A provider runs a job asynchronously: submit →
 * job id → status checks (or a webhook nudge) → an output to copy into our
 * storage. Adapters: `local` (ffmpeg on this machine) and `http` (the
 * company's job API, see docs/generation-api.md).
 */
export interface GenerationProvider {
  readonly name: 'local' | 'http'

  /** Starts a job. `reference` (our run id) makes a repeated submit safe. */
  submit(request: SubmitRequest, signal?: AbortSignal): Promise<{ jobId: string }>

  /** The job created for `reference`, if a submit of ours ever reached the provider. */
  findByReference(reference: string, signal?: AbortSignal): Promise<string | null>

  getStatus(jobId: string, signal?: AbortSignal): Promise<JobStatus>

  /** The finished job's output as a stream (to copy into our storage). */
  openOutput(jobId: string, status: JobStatus, signal?: AbortSignal): Promise<Readable>

  /** Best effort: stop a job we gave up on. */
  cancel(jobId: string): Promise<void>

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
}

/** Our view of a job, whatever words the provider uses. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'not_found'

export type JobStatus = {
  state: JobState
  /** The provider's own status word, kept for support. */
  providerStatus: string
  /** Why it failed, in words fit for the customer when possible. */
  error?: string
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
    public httpStatus?: number
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
