import logger from '@adonisjs/core/services/logger'
import { apayProductIdOf } from '#config/prices'
import {
  GatewayUnavailableError,
  centsToDecimal,
  decimalToCents,
  normalizePaymentId,
  type Checkout,
  type CheckoutRequest,
  type IgnoredPostback,
  type PaymentGateway,
  type VerifiedPayment,
} from '#integrations/payments/gateway'

/*
 * apay (https://api.apay.pp.ua/docs/api): every apay-specific field name
 * lives in this file. The contract below is what the public demo shop
 * shows; docs/payments.md lists it field by field with what is still
 * unknown, and `node ace payments:probe` shows the live answers.
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

/** apay keeps a `prod` and a `test` environment; each has its own token per payway. */
export const APAY_ENVIRONMENTS = ['prod', 'test'] as const
export type ApayEnvironment = (typeof APAY_ENVIRONMENTS)[number]

export const INIT_PAYMENT_PATH = '/api/v1/init-payment'
export const PAYMENT_VERIFY_PATH = '/api/v1/payment-verify'
/** The demo reads it for its Konnektive payway only. */
export const PRODUCTS_PATH = '/api/v1/konnektive/products'

export type ApayOptions = {
  apiUrl: string
  /** The token of one payway in one environment. */
  token: string
  /** The environment `token` belongs to (APAY_ENVIRONMENT). */
  environment: ApayEnvironment
  /** Per request; a provider that hangs must not hold a request or the worker. */
  timeoutMs?: number
}

/** One answer of apay as it came, for the probe and for error messages. */
export type ApayAnswer = {
  httpStatus: number
  contentType: string | null
  text: string
}

export class ApayGateway implements PaymentGateway {
  readonly name = 'apay' as const
  readonly environment: ApayEnvironment
  private timeoutMs: number

  constructor(private options: ApayOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.environment = options.environment
  }

  /** The init-payment body, as the demo shop sends it (`products`: ids, one per order). */
  initPaymentBody(request: CheckoutRequest) {
    return {
      customerEmail: request.customerEmail,
      amount: centsToDecimal(request.amountCents),
      currency: request.currency,
      customerIp: request.customerIp,
      successCallback: request.successUrl,
      failureCallback: request.failureUrl,
      postbackUrl: request.postbackUrl,
      products: [apayProductIdOf(request.pack)],
    }
  }

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    const answer = await this.post(INIT_PAYMENT_PATH, this.initPaymentBody(request))
    return this.readInitAnswer(answer)
  }

  /** `{paymentLink}` is required (http/https); `paymentId` (or `id`) is used when present. */
  readInitAnswer(answer: Record<string, unknown>): Checkout {
    const link = answer.paymentLink
    if (typeof link !== 'string' || !/^https?:\/\//i.test(link)) {
      throw new GatewayUnavailableError('apay init-payment answered without a paymentLink')
    }
    return { redirectUrl: link, paymentId: normalizePaymentId(answer.paymentId ?? answer.id) }
  }

  paymentIdFromPostback(body: unknown) {
    if (!isObject(body)) return null
    return normalizePaymentId(body.paymentId)
  }

  /**
   * A postback names its `environment` (and `payway`). One of the other
   * environment is not ours, whatever it says: a test payment must never
   * reach a production order. A postback without the field is verified as
   * usual (verify, with our token, decides).
   */
  postbackIgnoredBecause(body: unknown): IgnoredPostback | null {
    if (!isObject(body)) return null
    const stated = body.environment
    if (stated === undefined || stated === null || stated === '') return null
    if (typeof stated === 'string' && stated.trim().toLowerCase() === this.environment) return null
    return {
      reason: 'environment_mismatch',
      details: {
        environment: shortText(stated),
        expectedEnvironment: this.environment,
        payway: shortText(body.payway),
        paymentId: normalizePaymentId(body.paymentId),
      },
    }
  }

  async verify(paymentId: string): Promise<VerifiedPayment> {
    const answer = await this.post(PAYMENT_VERIFY_PATH, { paymentId })
    return this.readVerifyAnswer(paymentId, answer)
  }

  /**
   * The demo reads verify's answer as one flat object naming `paymentId`;
   * the fields are also accepted wrapped in `data` / `payment`. An answer
   * naming another environment than ours means APAY_TOKEN and
   * APAY_ENVIRONMENT do not match: nothing is decided on it.
   */
  readVerifyAnswer(paymentId: string, answer: Record<string, unknown>): VerifiedPayment {
    const payment = (
      isObject(answer.data) ? answer.data : isObject(answer.payment) ? answer.payment : answer
    ) as Record<string, unknown>
    const rawStatus =
      typeof payment.status === 'string' ? payment.status.trim().toLowerCase() : 'missing'
    let status: VerifiedPayment['status'] = PAID_STATUSES.has(rawStatus)
      ? 'paid'
      : FAILED_STATUSES.has(rawStatus)
        ? 'failed'
        : 'pending'
    const stated = payment.environment
    if (typeof stated === 'string' && stated.trim().toLowerCase() !== this.environment) {
      logger.error(
        { paymentId, environment: shortText(stated), expectedEnvironment: this.environment },
        'apay verify answered for another environment: APAY_TOKEN does not belong to APAY_ENVIRONMENT; nothing decided'
      )
      status = 'pending'
    }
    return {
      paymentId,
      status,
      rawStatus,
      amountCents: decimalToCents(payment.amount),
      currency: typeof payment.currency === 'string' ? payment.currency.trim().toUpperCase() : null,
    }
  }

  /**
   * One call as it goes over the wire, answer unparsed (the probe prints
   * it). Throws GatewayUnavailableError only when apay could not be reached.
   */
  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApayAnswer> {
    /* Relative to APAY_API_URL, which may carry a path prefix of its own. */
    const url = new URL(path.replace(/^\//, ''), this.options.apiUrl.replace(/\/*$/, '/'))
    try {
      const response = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      return {
        httpStatus: response.status,
        contentType: response.headers.get('content-type'),
        text: await response.text(),
      }
    } catch (error) {
      throw new GatewayUnavailableError(`apay ${path} unreachable: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }

  maskedToken() {
    return maskSecret(this.options.token)
  }

  /** Replaces the token wherever an answer might echo it. */
  maskToken(text: string) {
    const token = this.options.token
    return token.length >= 4 ? text.split(token).join(maskSecret(token)) : text
  }

  private async post(path: string, body: Record<string, unknown>) {
    const answer = await this.call('POST', path, body)
    if (answer.httpStatus < 200 || answer.httpStatus > 299) {
      /* apay explains a refusal in the body (the demo shows it as text): keep a bit for the log. */
      const excerpt = this.maskToken(answer.text.replace(/\s+/g, ' ').trim().slice(0, 200))
      throw new GatewayUnavailableError(
        `apay ${path} answered HTTP ${answer.httpStatus}${excerpt ? `: ${excerpt}` : ''}`
      )
    }
    let json: unknown
    try {
      json = JSON.parse(answer.text)
    } catch (error) {
      throw new GatewayUnavailableError(`apay ${path} answered something that is not JSON`, {
        cause: error,
      })
    }
    if (!isObject(json))
      throw new GatewayUnavailableError(`apay ${path} answered JSON that is not an object`)
    return json
  }
}

/** A secret as its first and last two characters and its length: enough to tell tokens apart. */
export function maskSecret(secret: string) {
  if (secret.length <= 8) return '****'
  return `${secret.slice(0, 2)}****${secret.slice(-2)} (${secret.length} chars)`
}

function shortText(value: unknown) {
  if (value === undefined || value === null) return null
  return String(typeof value === 'object' ? JSON.stringify(value) : value).slice(0, 40)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
