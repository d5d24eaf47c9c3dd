import { createHmac, timingSafeEqual } from 'node:crypto'
import { signedUrlFor } from '@adonisjs/core/services/url_builder'
import { appUrl } from '#config/app'

function hmac(key: string, message: string) {
  return createHmac('sha256', key).update(message).digest('hex')
}

function safeEqual(a: string, b: string) {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/* Scopes the signature: a URL signed for anything else never opens an input. */
export const INPUT_URL_PURPOSE = 'generation-input'

/**
 * An expiring URL of one input of a run, for the generation provider to
 * download (no session; the signature is the permission). The router's
 * signed URLs (the expiry is inside the signature), checked by
 * `request.hasValidSignature(INPUT_URL_PURPOSE)`; the path is signed, the
 * host is APP_URL's. The worker process commits the routes for this.
 */
export function signedInputUrl(runId: string, kind: string, ttlSeconds: number) {
  return signedUrlFor(
    'generation_inputs.show',
    { runId, kind },
    {
      expiresIn: ttlSeconds * 1000,
      purpose: INPUT_URL_PURPOSE,
      prefixUrl: appUrl,
    }
  )
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
