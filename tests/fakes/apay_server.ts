import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * How the fake answers payment-verify for a payment:
 * - paid / failed / pending: that status with the payment's real amount
 * - unknown: a status word nobody mapped (`on_hold`)
 * - wrong_amount / wrong_currency: "paid", but not what was ordered
 * - error500: HTTP 500;  timeout: never answers
 */
export type VerifyBehaviour =
  | 'paid'
  | 'failed'
  | 'pending'
  | 'unknown'
  | 'wrong_amount'
  | 'wrong_currency'
  | 'error500'
  | 'timeout'

export type InitBehaviour = 'ok' | 'no_payment_id' | 'error500' | 'timeout'

/** A token belongs to one payway in one environment (the demo keeps 8 payways × prod/test). */
export type FakeToken = { payway: string; environment: 'prod' | 'test' }

type FakePayment = {
  id: string
  amount: number
  currency: string
  token: FakeToken
  behaviour: VerifyBehaviour
  body: any
}

/**
 * A real HTTP server standing in for apay, following what its public demo
 * shop shows (docs/payments.md): init-payment with `products` as a list of
 * product ids, payment-verify answering one flat object, postbacks naming
 * `environment` and `payway`, one token per payway and environment (a
 * payment is only visible to the token that created it), the Konnektive
 * product list. Tests flip behaviours and read `requests`.
 */
export class FakeApay {
  /** payway1 in the test environment: what the app is configured with in tests. */
  readonly token = 'fake-apay-test-token-0123456789'
  /** payway1 in prod: the same shop's other environment. */
  readonly prodToken = 'fake-apay-prod-token-9876543210'
  /** payway6 in test, the Konnektive payway (the only one with a product list in the demo). */
  readonly konnektiveToken = 'fake-apay-konnektive-token-555'
  readonly tokens = new Map<string, FakeToken>([
    [this.token, { payway: 'payway1', environment: 'test' }],
    [this.prodToken, { payway: 'payway1', environment: 'prod' }],
    [this.konnektiveToken, { payway: 'payway6', environment: 'test' }],
  ])
  requests: { method: string; path: string; authorization?: string; body: any }[] = []
  payments = new Map<string, FakePayment>()
  initBehaviour: InitBehaviour = 'ok'
  defaultVerify: VerifyBehaviour = 'pending'
  /** Extra fields in every payment-verify answer (e.g. to see that the probe masks secrets). */
  verifyExtras: Record<string, unknown> = {}
  /** When set, init-payment refuses product ids that are not in it. */
  catalogue: Set<string> | null = null
  konnektiveProducts = [
    { productId: 101, productName: 'Starter', productCost: '10.00' },
    { productId: 102, productName: 'Creator', productCost: '25.00' },
  ]
  private server?: Server
  private counter = 0
  url = ''

  async start() {
    this.server = createServer((req, res) => void this.route(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  async close() {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }

  reset() {
    this.requests = []
    this.payments.clear()
    this.initBehaviour = 'ok'
    this.defaultVerify = 'pending'
    this.catalogue = null
    this.verifyExtras = {}
  }

  /** Sets how payment-verify answers for one payment (the latest when no id is given). */
  set(behaviour: VerifyBehaviour, paymentId = this.lastPaymentId) {
    this.payments.get(paymentId)!.behaviour = behaviour
  }

  get lastPaymentId() {
    return [...this.payments.keys()].at(-1)!
  }

  /**
   * The postback apay sends for a payment, in the shape the demo stores:
   * `{paymentId, status, amount, currency, environment, payway}`.
   */
  postbackFor(paymentId = this.lastPaymentId, overrides: Record<string, unknown> = {}) {
    const payment = this.payments.get(paymentId)!
    return {
      paymentId: payment.id,
      status: ['paid', 'failed', 'pending'].includes(payment.behaviour)
        ? payment.behaviour
        : 'pending',
      amount: payment.amount,
      currency: payment.currency,
      environment: payment.token.environment,
      payway: payment.token.payway,
      ...overrides,
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    let body: any = null
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
    } catch {}
    const path = req.url ?? ''
    this.requests.push({
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      body,
    })

    const token = this.tokens.get(String(req.headers.authorization).replace(/^Bearer /, ''))
    if (!req.headers.authorization?.startsWith('Bearer ') || !token)
      return send(res, 401, { message: 'Unauthorized' })
    if (req.method === 'POST' && path === '/api/v1/init-payment') return this.init(token, body, res)
    if (req.method === 'POST' && path === '/api/v1/payment-verify')
      return this.verify(token, body, res)
    if (req.method === 'GET' && path === '/api/v1/konnektive/products')
      return this.products(token, res)
    return send(res, 404, { message: 'Not found' })
  }

  /** Refuses what the demo shows is not apay's shape; the first problem is named. */
  private initProblem(body: any): string | null {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return 'a JSON object is required'
    if (typeof body.customerEmail !== 'string' || !body.customerEmail.includes('@'))
      return 'customerEmail is required'
    if (typeof body.amount !== 'number' || !(body.amount > 0)) return 'amount must be a number'
    if (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency))
      return 'currency is required'
    if (typeof body.customerIp !== 'string' || !body.customerIp) return 'customerIp is required'
    for (const field of ['successCallback', 'failureCallback', 'postbackUrl']) {
      if (typeof body[field] !== 'string' || !/^https?:\/\//.test(body[field]))
        return `${field} must be a URL`
    }
    if (
      !Array.isArray(body.products) ||
      body.products.length === 0 ||
      !body.products.every((id: unknown) => typeof id === 'string' && id.length > 0)
    )
      return 'products must be a list of product ids'
    const unknown = body.products.find((id: string) => this.catalogue && !this.catalogue.has(id))
    if (unknown !== undefined) return `unknown product ${unknown}`
    return null
  }

  private init(token: FakeToken, body: any, res: ServerResponse) {
    if (this.initBehaviour === 'timeout') return
    if (this.initBehaviour === 'error500') return send(res, 500, { message: 'Internal error' })
    const problem = this.initProblem(body)
    if (problem) return send(res, 400, { message: problem })
    this.counter += 1
    const id = `ap_${this.counter}_${Date.now()}`
    this.payments.set(id, {
      id,
      amount: body.amount,
      currency: body.currency,
      token,
      behaviour: this.defaultVerify,
      body,
    })
    const answer: Record<string, string> = { paymentLink: `${this.url}/pay/${id}` }
    if (this.initBehaviour !== 'no_payment_id') answer.paymentId = id
    return send(res, 200, answer)
  }

  private verify(token: FakeToken, body: any, res: ServerResponse) {
    const payment = this.payments.get(String(body?.paymentId))
    /* Another payway's or environment's payment is not this token's to see. */
    if (
      !payment ||
      payment.token.payway !== token.payway ||
      payment.token.environment !== token.environment
    )
      return send(res, 404, { message: 'Payment not found' })
    const base = {
      paymentId: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      environment: payment.token.environment,
      payway: payment.token.payway,
      ...this.verifyExtras,
    }
    switch (payment.behaviour) {
      case 'timeout':
        return
      case 'error500':
        return send(res, 500, { message: 'Internal error' })
      case 'unknown':
        return send(res, 200, { ...base, status: 'on_hold' })
      case 'wrong_amount':
        return send(res, 200, { ...base, status: 'paid', amount: payment.amount - 1 })
      case 'wrong_currency':
        return send(res, 200, { ...base, status: 'paid', currency: 'EUR' })
      default:
        return send(res, 200, { ...base, status: payment.behaviour })
    }
  }

  private products(token: FakeToken, res: ServerResponse) {
    if (token.payway !== 'payway6')
      return send(res, 400, { message: 'No product catalogue for this payway' })
    return send(res, 200, { products: { data: this.konnektiveProducts } })
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}
