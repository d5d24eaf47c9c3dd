/*
| The payments port: every payment provider is an adapter behind this one
| interface, picked by PAYMENT_GATEWAY (see ./gateways.ts). Nothing outside
| an adapter file knows a provider's field names.
*/
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'

import type { Pack } from '#config/prices'

export const GATEWAY_NAMES = ['dev', 'apay'] as const
export type GatewayName = (typeof GATEWAY_NAMES)[number]

/** What we ask a provider to charge for. Amounts are integer cents. */
export type CheckoutRequest = {
  orderId: string
  amountCents: number
  currency: string
  /** Shown on the provider's page, e.g. `vgen: "small" pack, 10,000 tokens`. */
  description: string
  /** The pack sold (a provider with a product catalogue names it by its own id). */
  pack: Pack
  customerEmail: string
  customerIp: string
  /** Absolute URLs the customer / provider come back to. */
  successUrl: string
  failureUrl: string
  postbackUrl: string
}

export type Checkout = {
  /** Where to send the customer's browser. */
  redirectUrl: string
  /** The provider's payment id when it tells us at once (else learnt from the return/postback). */
  paymentId: string | null
}

/** A provider's own answer about a payment, the only thing we credit on. */
export type VerifiedPayment = {
  paymentId: string
  status: 'paid' | 'failed' | 'pending'
  /** The provider's raw status word, kept for logs. */
  rawStatus: string
  /** Integer cents, or null when the provider did not say or said something unparsable. */
  amountCents: number | null
  currency: string | null
}

/** A postback that is not for this installation: why, and what to log about it. */
export type IgnoredPostback = {
  reason: string
  details: Record<string, unknown>
}

export interface PaymentGateway {
  readonly name: GatewayName

  /** Creates the payment at the provider and returns where to redirect the customer. */
  createCheckout(request: CheckoutRequest): Promise<Checkout>

  /**
   * Reads a postback body. It is untrusted (apay does not sign it): the
   * result only says which payment to verify.
   */
  paymentIdFromPostback(body: unknown): string | null

  /**
   * Why a postback is not meant for this installation (apay: another
   * environment than ours), or null. An ignored postback is logged and
   * changes nothing, not even a call to verify.
   */
  postbackIgnoredBecause?(body: unknown): IgnoredPostback | null

  /** Asks the provider for the real state of a payment. */
  verify(paymentId: string): Promise<VerifiedPayment>
}

/**
 * The provider could not be reached or answered something unusable
 * (5xx, timeout, not JSON), or is not configured. Nothing was decided: try
 * again later. The message says what happened, for the logs; a postback
 * (the only request it can end) gets a 503 asking to retry.
 */
export class GatewayUnavailableError extends Exception {
  static status = 503
  static code = 'E_GATEWAY_UNAVAILABLE'

  handle(_: this, ctx: HttpContext) {
    return ctx.response.status(503).send({
      error: {
        code: 'gateway_unavailable',
        message: 'Could not verify the payment now; retry later',
      },
    })
  }

  report(error: this, ctx: HttpContext) {
    ctx.logger.warn({ err: error }, 'could not verify with the payment gateway')
  }
}

/** A payment id as a provider may send it: a short string or a number. */
export function normalizePaymentId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  if (typeof value !== 'string') return null
  const id = value.trim()
  return /^[A-Za-z0-9._:-]{1,191}$/.test(id) ? id : null
}

/**
 * A decimal amount ("10", "10.00", 9.99) as integer cents, without float
 * rounding surprises; null for anything that is not an exact cent amount.
 */
export function decimalToCents(value: unknown): number | null {
  let text: string
  if (typeof value === 'number' && Number.isFinite(value)) text = String(value)
  else if (typeof value === 'string') text = value.trim()
  else return null
  const match = /^(\d{1,12})(?:\.(\d+))?$/.exec(text)
  if (!match) return null
  const fraction = (match[2] ?? '').replace(/0+$/, '')
  if (fraction.length > 2) return null
  return Number(match[1]) * 100 + Number(fraction.padEnd(2, '0'))
}

/** Cents as the decimal amount providers expect, e.g. 1000 → 10.00 (number). */
export function centsToDecimal(cents: number) {
  return Number((cents / 100).toFixed(2))
}
