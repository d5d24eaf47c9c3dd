import db from '@adonisjs/lucid/services/db'
import { uuidv7 } from '#helpers/ids'
import { sqlNow } from '#helpers/sql_time'
import {
  normalizePaymentId,
  type Checkout,
  type CheckoutRequest,
  type PaymentGateway,
  type VerifiedPayment,
} from '#integrations/payments/gateway'

export type DevPayment = {
  id: string
  orderId: string
  amountCents: number
  currency: string
  description: string
  customerEmail: string
  status: 'pending' | 'paid' | 'failed'
  successUrl: string
  failureUrl: string
  postbackUrl: string
}

function fromRow(row: Record<string, any>): DevPayment {
  return {
    id: row.id,
    orderId: row.order_id,
    amountCents: row.amount_cents,
    currency: row.currency,
    description: row.description,
    customerEmail: row.customer_email,
    status: row.status,
    successUrl: row.success_url,
    failureUrl: row.failure_url,
    postbackUrl: row.postback_url,
  }
}

/**
 * The embedded default gateway (development and test only). It plays the
 * provider: it keeps its own payments in `dev_payments`, shows a local
 * checkout page with Pay / Fail (DevCheckoutController), and answers
 * `verify` from its own records, so the app runs the very same
 * postback → verify → credit path as with apay.
 */
export class DevGateway implements PaymentGateway {
  readonly name = 'dev' as const

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    const id = uuidv7()
    await db.table('dev_payments').insert({
      id,
      order_id: request.orderId,
      amount_cents: request.amountCents,
      currency: request.currency,
      description: request.description,
      customer_email: request.customerEmail,
      status: 'pending',
      success_url: request.successUrl,
      failure_url: request.failureUrl,
      postback_url: request.postbackUrl,
      created_at: sqlNow(),
      updated_at: sqlNow(),
    })
    return { redirectUrl: `/dev/checkout/${id}`, paymentId: id }
  }

  paymentIdFromPostback(body: unknown) {
    if (!body || typeof body !== 'object') return null
    return normalizePaymentId((body as Record<string, unknown>).paymentId)
  }

  async verify(paymentId: string): Promise<VerifiedPayment> {
    const payment = await this.find(paymentId)
    if (!payment)
      return {
        paymentId,
        status: 'pending',
        rawStatus: 'unknown',
        amountCents: null,
        currency: null,
      }
    return {
      paymentId,
      status: payment.status,
      rawStatus: payment.status,
      amountCents: payment.amountCents,
      currency: payment.currency,
    }
  }

  /* ---- the provider's side: what the checkout page calls ---- */

  async find(paymentId: string): Promise<DevPayment | null> {
    if (!normalizePaymentId(paymentId)) return null
    const row = await db.from('dev_payments').where('id', paymentId).first()
    return row ? fromRow(row) : null
  }

  /** The customer pressed Pay or Fail; a payment is decided once. */
  async decide(paymentId: string, outcome: 'paid' | 'failed') {
    await db
      .from('dev_payments')
      .where({ id: paymentId, status: 'pending' })
      .update({ status: outcome, updated_at: sqlNow() })
    return this.find(paymentId)
  }
}
