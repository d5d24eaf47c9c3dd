import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import logger from '@adonisjs/core/services/logger'
import { Exception } from '@adonisjs/core/exceptions'
import { OutputUnavailable, ProviderError, type JobState } from '#integrations/generation/provider'

/*
 * The HTTP plumbing the provider adapters share: one timeout per call, a
 * cap on how much of an answer is read (a provider answering a huge page,
 * HTML or garbage instead of JSON must not fill our memory or crash us),
 * and one classification of failures: network, timeouts, 5xx and 429 are
 * transient (retried with backoff, 429 after its Retry-After); other 4xx
 * are final.
 */

/** JSON answers of the providers are small; anything bigger is not one. */
export const MAX_JSON_BYTES = 1024 * 1024

export type JsonCall = {
  method: string
  url: string | URL
  headers?: Record<string, string>
  body?: unknown
  signal?: AbortSignal
  timeoutMs: number
  /** Answer `null` for a 404 instead of throwing. */
  notFoundIsNull?: boolean
  /** Label for messages ("sync POST /v2/generate"). */
  label: string
}

export type JsonAnswer<T> = { status: number; data: T }

export function withTimeout(timeoutMs: number, signal?: AbortSignal) {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal ? AbortSignal.any([signal, timeout]) : timeout
}

/** `Retry-After` as milliseconds from now (seconds or an HTTP date), capped at an hour. */
export function retryAfterMs(header: string | null, now = Date.now()) {
  if (!header) return undefined
  const value = header.trim()
  let ms: number | undefined
  if (/^\d+(\.\d+)?$/.test(value)) ms = Number(value) * 1000
  else {
    const date = Date.parse(value)
    if (!Number.isNaN(date)) ms = date - now
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined
  return Math.min(Math.max(ms, 0), 3600_000)
}

/** Reads at most `limit` bytes of a body as text; more is an error (and the rest is dropped). */
export async function readCapped(response: Response, limit = MAX_JSON_BYTES) {
  if (!response.body) return ''
  const declared = Number(response.headers.get('content-length'))
  if (declared > limit) {
    await response.body.cancel().catch(() => {})
    throw new BodyTooLarge()
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > limit) {
      await response.body.cancel().catch(() => {})
      throw new BodyTooLarge()
    }
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

/* Internal to this file: turned into a ProviderError by callJson. */
class BodyTooLarge extends Exception {
  static message = 'body too large'
}

/** One JSON call to a provider's API. */
export async function callJson<T>(call: JsonCall): Promise<JsonAnswer<T | null>> {
  let response: Response
  try {
    response = await fetch(call.url, {
      method: call.method,
      headers: {
        Accept: 'application/json',
        ...(call.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...call.headers,
      },
      body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
      signal: withTimeout(call.timeoutMs, call.signal),
      redirect: 'error',
    })
  } catch (error) {
    throw new ProviderError(`${call.label} failed: ${(error as Error).message}`, true)
  }

  if (response.status === 404 && call.notFoundIsNull) {
    await response.body?.cancel().catch(() => {})
    return { status: 404, data: null }
  }

  let text: string
  try {
    text = await readCapped(response)
  } catch (error) {
    if (error instanceof BodyTooLarge)
      throw new ProviderError(`${call.label} answered ${response.status} with a huge body`, true)
    throw new ProviderError(`${call.label} body failed: ${(error as Error).message}`, true)
  }

  if (!response.ok) {
    const transient = response.status === 429 || response.status >= 500
    throw new ProviderError(
      `${call.label} answered ${response.status}: ${text.slice(0, 300)}`,
      transient,
      response.status,
      transient ? retryAfterMs(response.headers.get('retry-after')) : undefined
    )
  }
  try {
    return { status: response.status, data: text ? (JSON.parse(text) as T) : null }
  } catch {
    throw new ProviderError(
      `${call.label} answered ${response.status} with something that is not JSON: ${text.slice(0, 120)}`,
      true,
      response.status
    )
  }
}

/** A plain object (not an array, not null), or null. */
export function asObject(value: unknown): Record<string, any> | null {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, any>)
    : null
}

/**
 * Opens a finished job's output URL as a stream (never buffered). Output
 * URLs are pre-signed or public: no API key is sent to the storage host
 * unless `headers` says so. 403/404/410 mean expired or gone.
 */
export async function openOutputUrl(
  url: string | undefined,
  options: { timeoutMs: number; signal?: AbortSignal; label: string }
): Promise<Readable> {
  if (!url) throw new OutputUnavailable(`${options.label}: finished job has no output URL`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new OutputUnavailable(`${options.label}: output URL is not a URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new OutputUnavailable(`${options.label}: output URL is not http(s)`)
  let response: Response
  /* The timeout covers the answer's headers; the copy itself is bounded by the step's signal. */
  const headersTimeout = new AbortController()
  const timer = setTimeout(() => headersTimeout.abort(), options.timeoutMs)
  try {
    response = await fetch(parsed, {
      signal: options.signal
        ? AbortSignal.any([options.signal, headersTimeout.signal])
        : headersTimeout.signal,
    })
  } catch (error) {
    throw new ProviderError(
      `${options.label}: output download failed: ${(error as Error).message}`,
      true
    )
  } finally {
    clearTimeout(timer)
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {})
    throw new OutputUnavailable(
      `${options.label}: output download answered ${response.status}`,
      response.status
    )
  }
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
}

/** First value of a header (Node gives arrays for repeated ones). */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string) {
  const value = headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/* Status words we have no mapping for: the run keeps running (its deadline ends it), logged once. */
const unknownStatuses = new Set<string>()

export function noteUnknownStatus(provider: string, status: string) {
  const key = `${provider}:${status}`
  if (unknownStatuses.has(key)) return
  unknownStatuses.add(key)
  logger.warn(
    { provider, status },
    'generation provider answered an unknown status (treated as running)'
  )
}

/**
 * GETs a job's status object: `null` when the provider no longer knows the
 * job (404); anything but a JSON object is a transient provider fault.
 */
export async function getStatusObject(
  provider: string,
  call: Omit<JsonCall, 'method' | 'notFoundIsNull'>
) {
  const { data } = await callJson<Record<string, unknown>>({
    ...call,
    method: 'GET',
    notFoundIsNull: true,
  })
  if (data === null) return null
  const answer = asObject(data)
  if (!answer) throw new ProviderError(`${provider} status answer is not an object`, true)
  return answer
}

/** A provider's status word as our state; an unknown word keeps the run running (logged once). */
export function stateOf(provider: string, states: Record<string, JobState>, word: string) {
  if (Object.hasOwn(states, word)) return states[word]
  noteUnknownStatus(provider, word)
  return 'running' as const
}

/** The status word as given, shortened and printable, for the run row. */
export function statusWord(value: unknown) {
  return (
    String(value ?? 'missing')
      .replace(/[^\w.-]/g, '_')
      .slice(0, 32) || 'missing'
  )
}
