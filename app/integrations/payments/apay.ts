import {
  GatewayUnavailableError,
  centsToDecimal,
  decimalToCents,
  normalizePaymentId,
  type Checkout,
  type CheckoutRequest,
  type PaymentGateway,
  type VerifiedPayment,
} from '#integrations/payments/gateway'

/*
 * apay (https://api.apay.pp.ua/docs/api): every apay-specific field name
 * lives in this file. The contract below is what the public demo shop
 * shows; docs/payments.md lists what to check against the live docs.
 */

/* Status words seen or expected from apay. Anything else stays pending. */
const PAID_STATUSES = new Set([
  'paid',
  'success',
  'successful',
  'succeeded',
  'completed',
  'complete',
  'confirmed',
])
const FAILED_STATUSES = new Set([
  'failed',
  'failure',
  'fail',
  'declined',
  'rejected',
  'canceled',
  'cancelled',
  'expired',
])

export type ApayOptions = {
  apiUrl: string
  token: string
  /** Per request; a provider that hangs must not hold a request or the worker. */
  timeoutMs?: number
}

export class ApayGateway implements PaymentGateway {
  readonly name = 'apay' as const
  private timeoutMs: number

  constructor(private options: ApayOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000
  }

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    const amount = centsToDecimal(request.amountCents)
    const answer = await this.post('/api/v1/init-payment', {
      customerEmail: request.customerEmail,
      amount,
      currency: request.currency,
      customerIp: request.customerIp,
      successCallback: request.successUrl,
      failureCallback: request.failureUrl,
      postbackUrl: request.postbackUrl,
      products: [{ name: request.description, price: amount, quantity: 1 }],
    })
    const link = answer.paymentLink
    if (typeof link !== 'string' || !/^https?:\/\//i.test(link)) {
      throw new GatewayUnavailableError('apay init-payment answered without a paymentLink')
    }
    return { redirectUrl: link, paymentId: normalizePaymentId(answer.paymentId ?? answer.id) }
  }

  paymentIdFromPostback(body: unknown) {
    if (!body || typeof body !== 'object') return null
    return normalizePaymentId((body as Record<string, unknown>).paymentId)
  }

  async verify(paymentId: string): Promise<VerifiedPayment> {
    const answer = await this.post('/api/v1/payment-verify', { paymentId })
    /* Accept the fields at the top level or wrapped in `data` / `payment`. */
    const payment = (
      isObject(answer.data) ? answer.data : isObject(answer.payment) ? answer.payment : answer
    ) as Record<string, unknown>
    const rawStatus =
      typeof payment.status === 'string' ? payment.status.trim().toLowerCase() : 'missing'
    const status = PAID_STATUSES.has(rawStatus)
      ? 'paid'
      : FAILED_STATUSES.has(rawStatus)
        ? 'failed'
        : 'pending'
    return {
      paymentId,
      status,
      rawStatus,
      amountCents: decimalToCents(payment.amount),
      currency: typeof payment.currency === 'string' ? payment.currency.trim().toUpperCase() : null,
    }
  }

  private async post(path: string, body: Record<string, unknown>): Promise<Record<string, any>> {
    /* Relative to APAY_API_URL, which may carry a path prefix of its own. */
    const url = new URL(path.replace(/^\//, ''), this.options.apiUrl.replace(/\/*$/, '/'))
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'Authorization': `Bearer ${this.options.token}`,
          'Content-Type': 'application/json',
          'Accept': 'application/json',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (error) {
      throw new GatewayUnavailableError(`apay ${path} unreachable: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {})
      throw new GatewayUnavailableError(`apay ${path} answered HTTP ${response.status}`)
    }
    let json: unknown
    try {
      json = await response.json()
    } catch (error) {
      throw new GatewayUnavailableError(`apay ${path} answered something that is not JSON`, {
        cause: error,
      })
    }
    if (!isObject(json))
      throw new GatewayUnavailableError(`apay ${path} answered JSON that is not an object`)
    return json as Record<string, any>
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
