import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import {
  OutputUnavailable,
  ProviderError,
  type GenerationProvider,
  type JobState,
  type JobStatus,
  type SubmitRequest,
} from '#integrations/generation/provider'

export type HttpProviderOptions = {
  baseUrl: string
  apiKey: string
  requestTimeoutMs: number
}

/*
 * The provider's status words mapped onto ours (docs/generation-api.md).
 * Anything unknown counts as still running: the run's deadline ends it.
 */
const STATES: Record<string, JobState> = {
  queued: 'queued',
  pending: 'queued',
  starting: 'queued',
  processing: 'running',
  running: 'running',
  succeeded: 'succeeded',
  completed: 'succeeded',
  failed: 'failed',
  error: 'failed',
  canceled: 'failed',
  cancelled: 'failed',
  expired: 'failed',
}

/* Provider error codes we can explain to the customer. */
const FAILURE_MESSAGES: Record<string, string> = {
  input_unreadable: 'The generation service could not read your files.',
  no_face_detected: 'No face was found in the video.',
  content_rejected: 'The generation service refused this content.',
  timeout: 'The generation service took too long.',
}

type ApiJob = {
  id: string
  status: string
  output?: { url?: string; expires_at?: string } | null
  error?: { code?: string; message?: string } | null
}

/** The company's async job API over HTTPS (contract: docs/generation-api.md). */
export class HttpGenerationProvider implements GenerationProvider {
  readonly name = 'http' as const

  constructor(private options: HttpProviderOptions) {}

  async submit(request: SubmitRequest, signal?: AbortSignal) {
    const body = {
      model: request.model.key,
      settings: request.model.render,
      inputs: request.inputs.map((input) => ({
        kind: input.kind,
        url: input.url,
        content_type: input.contentType,
        size: input.size,
      })),
      clip_seconds: request.clipSeconds,
      reference: request.reference,
      ...(request.webhookUrl ? { webhook_url: request.webhookUrl } : {}),
    }
    const job = await this.call<ApiJob>('POST', '/v1/jobs', {
      body,
      signal,
      headers: { 'Idempotency-Key': request.reference },
    })
    if (!job?.id) throw new ProviderError('Submit answered without a job id', true)
    return { jobId: String(job.id) }
  }

  async findByReference(reference: string, signal?: AbortSignal) {
    const list = await this.call<{ data: ApiJob[] }>(
      'GET',
      `/v1/jobs?reference=${encodeURIComponent(reference)}`,
      { signal }
    )
    return list?.data?.[0]?.id ? String(list.data[0].id) : null
  }

  async getStatus(jobId: string, signal?: AbortSignal): Promise<JobStatus> {
    const job = await this.call<ApiJob>('GET', `/v1/jobs/${encodeURIComponent(jobId)}`, {
      signal,
      notFoundIsNull: true,
    })
    if (!job) return { state: 'not_found', providerStatus: 'not_found' }
    const state = STATES[String(job.status).toLowerCase()] ?? 'running'
    const code = job.error?.code ?? ''
    return {
      state,
      providerStatus: String(job.status).slice(0, 32),
      error:
        state === 'failed'
          ? (FAILURE_MESSAGES[code] ?? 'The generation service could not make this clip.')
          : undefined,
      outputUrl: job.output?.url ?? undefined,
    }
  }

  async openOutput(_jobId: string, status: JobStatus, signal?: AbortSignal): Promise<Readable> {
    if (!status.outputUrl) throw new OutputUnavailable('Finished job has no output URL')
    let response: Response
    try {
      /* Output URLs are pre-signed: no API key goes to the storage host. */
      response = await fetch(status.outputUrl, { signal: this.withTimeout(signal) })
    } catch (error) {
      throw new ProviderError(`Output download failed: ${(error as Error).message}`, true)
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => {})
      throw new OutputUnavailable(`Output download answered ${response.status}`, response.status)
    }
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
  }

  async cancel(jobId: string) {
    await this.call('POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`, {
      notFoundIsNull: true,
    }).catch(() => {})
  }

  async release() {
    /* The provider deletes expired jobs on its own. */
  }

  private withTimeout(signal?: AbortSignal) {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs)
    return signal ? AbortSignal.any([signal, timeout]) : timeout
  }

  private async call<T>(
    method: string,
    path: string,
    options: {
      body?: unknown
      signal?: AbortSignal
      headers?: Record<string, string>
      notFoundIsNull?: boolean
    } = {}
  ): Promise<T | null> {
    if (!this.options.baseUrl) throw new ProviderError('GENERATION_API_URL is not set', false)
    let response: Response
    try {
      response = await fetch(new URL(path, this.options.baseUrl), {
        method,
        headers: {
          Authorization: `Bearer ${this.options.apiKey}`,
          Accept: 'application/json',
          ...(options.body ? { 'Content-Type': 'application/json' } : {}),
          ...options.headers,
        },
        body: options.body ? JSON.stringify(options.body) : undefined,
        signal: this.withTimeout(options.signal),
      })
    } catch (error) {
      throw new ProviderError(`${method} ${path} failed: ${(error as Error).message}`, true)
    }
    if (response.status === 404 && options.notFoundIsNull) {
      await response.body?.cancel().catch(() => {})
      return null
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '')
      /* 429 and 5xx may pass; other 4xx are our mistake and will not. */
      const transient = response.status === 429 || response.status >= 500
      throw new ProviderError(
        `${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`,
        transient,
        response.status
      )
    }
    try {
      return (await response.json()) as T
    } catch {
      throw new ProviderError(`${method} ${path} answered invalid JSON`, true)
    }
  }
}
