import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
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

type FakePayment = {
  id: string
  amount: string
  currency: string
  behaviour: VerifyBehaviour
  body: any
}

/**
 * A real HTTP server standing in for apay (init-payment, payment-verify),
 * with the contract assumed in docs/payments.md. Tests flip behaviours and
 * read `requests` to see what the app sent.
 */
export class FakeApay {
  readonly token = 'fake-apay-token-0123456789'
  requests: { path: string; authorization?: string; body: any }[] = []
  payments = new Map<string, FakePayment>()
  initBehaviour: InitBehaviour = 'ok'
  defaultVerify: VerifyBehaviour = 'pending'
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
  }

  /** Sets how payment-verify answers for one payment (the latest when no id is given). */
  set(behaviour: VerifyBehaviour, paymentId = [...this.payments.keys()].at(-1)!) {
    this.payments.get(paymentId)!.behaviour = behaviour
  }

  get lastPaymentId() {
    return [...this.payments.keys()].at(-1)!
  }

  private async route(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    let body: any = null
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
    } catch {}
    this.requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body })

    if (req.headers.authorization !== `Bearer ${this.token}`)
      return send(res, 401, { message: 'Unauthorized' })
    if (req.method === 'POST' && req.url === '/api/v1/init-payment') return this.init(body, res)
    if (req.method === 'POST' && req.url === '/api/v1/payment-verify') return this.verify(body, res)
    return send(res, 404, { message: 'Not found' })
  }

  private init(body: any, res: ServerResponse) {
    if (this.initBehaviour === 'timeout') return
    if (this.initBehaviour === 'error500') return send(res, 500, { message: 'Internal error' })
    if (typeof body?.amount !== 'number' || !body?.currency || !body?.postbackUrl) {
      return send(res, 422, { message: 'amount, currency and postbackUrl are required' })
    }
    this.counter += 1
    const id = `ap_${this.counter}_${Date.now()}`
    this.payments.set(id, {
      id,
      amount: body.amount.toFixed(2),
      currency: body.currency,
      behaviour: this.defaultVerify,
      body,
    })
    const answer: Record<string, string> = { paymentLink: `${this.url}/pay/${id}` }
    if (this.initBehaviour !== 'no_payment_id') answer.paymentId = id
    return send(res, 200, answer)
  }

  private verify(body: any, res: ServerResponse) {
    const payment = this.payments.get(String(body?.paymentId))
    if (!payment) return send(res, 404, { message: 'Payment not found' })
    const base = {
      paymentId: payment.id,
      amount: payment.amount,
      currency: payment.currency,
      payway: 'card',
    }
    switch (payment.behaviour) {
      case 'timeout':
        return
      case 'error500':
        return send(res, 500, { message: 'Internal error' })
      case 'unknown':
        return send(res, 200, { ...base, status: 'on_hold' })
      case 'wrong_amount':
        return send(res, 200, {
          ...base,
          status: 'paid',
          amount: (Number(payment.amount) - 1).toFixed(2),
        })
      case 'wrong_currency':
        return send(res, 200, { ...base, status: 'paid', currency: 'EUR' })
      default:
        return send(res, 200, { ...base, status: payment.behaviour })
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}
