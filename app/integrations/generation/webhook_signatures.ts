import { createHash, createHmac } from 'node:crypto'

/*
 * The providers' webhook signing schemes, as pure functions (the adapters
 * verify with them; the fakes sign with them).
 */

/** sync.so: `Sync-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, key = the secret string as is. */
export function syncSignature(secret: string, timestamp: string, rawBody: string) {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')
}

/** Standard Webhooks key: the base64 part of `whsec_…` (a secret without the prefix is taken as base64 too). */
export function standardWebhookKey(secret: string) {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
}

/** Replicate (Standard Webhooks): `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`. */
export function standardWebhookSignature(
  secret: string,
  id: string,
  timestamp: string,
  rawBody: string
) {
  const digest = createHmac('sha256', standardWebhookKey(secret))
    .update(`${id}.${timestamp}.${rawBody}`)
    .digest('base64')
  return `v1,${digest}`
}

/** fal: ED25519 over request id, user id, timestamp and the body's SHA-256 (hex), one per line. */
export function falSignedMessage(
  requestId: string,
  userId: string,
  timestamp: string,
  rawBody: string
) {
  const digest = createHash('sha256').update(rawBody).digest('hex')
  return Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${digest}`)
}
