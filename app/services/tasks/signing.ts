import { createHmac, timingSafeEqual } from 'node:crypto'
import env from '#start/env'

function hmac(key: string, message: string) {
  return createHmac('sha256', key).update(message).digest('hex')
}

function safeEqual(a: string, b: string) {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

function appKey() {
  return `generation-inputs:${env.get('APP_KEY').release()}`
}

/**
 * An expiring URL of one input of a run, for the generation provider to
 * download (no session; the signature is the permission).
 */
export function signedInputUrl(runId: string, kind: string, ttlSeconds: number, now = Date.now()) {
  const expires = Math.floor(now / 1000) + ttlSeconds
  const signature = hmac(appKey(), `${runId}:${kind}:${expires}`)
  const base = env.get('APP_URL').replace(/\/+$/, '')
  return `${base}/generation/inputs/${runId}/${kind}?expires=${expires}&signature=${signature}`
}

export function inputSignatureValid(
  runId: string,
  kind: string,
  expires: unknown,
  signature: unknown
) {
  if (typeof expires !== 'string' || typeof signature !== 'string' || !/^\d+$/.test(expires))
    return false
  if (Number(expires) * 1000 < Date.now()) return false
  return safeEqual(hmac(appKey(), `${runId}:${kind}:${expires}`), signature)
}

/* Webhooks: `X-Signature: sha256=<hex HMAC of "<X-Timestamp>.<raw body>">`, 5 minutes of tolerance. */
export const WEBHOOK_TOLERANCE_SECONDS = 300

export function webhookSignature(secret: string, timestamp: string, rawBody: string) {
  return `sha256=${hmac(secret, `${timestamp}.${rawBody}`)}`
}

export function webhookSignatureValid(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  rawBody: string,
  now = Date.now()
) {
  if (!secret || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false
  if (Math.abs(now / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) return false
  return safeEqual(webhookSignature(secret, timestamp, rawBody), signature)
}
