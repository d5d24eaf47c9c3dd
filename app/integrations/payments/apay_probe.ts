import { currency, findPack } from '#config/prices'
import {
  INIT_PAYMENT_PATH,
  PAYMENT_VERIFY_PATH,
  PRODUCTS_PATH,
  maskSecret,
  type ApayAnswer,
  type ApayGateway,
} from '#integrations/payments/apay'
import { GatewayUnavailableError, normalizePaymentId } from '#integrations/payments/gateway'

/*
 * `node ace payments:probe`: one init-payment and one payment-verify against
 * the live apay API, printed as they went over the wire (secrets masked),
 * followed by what the adapter makes of them. Meant to be run once with a
 * test token before launch, to settle what the demo shop leaves open
 * (docs/payments.md, "Still unknown").
 */

export type ProbeOptions = {
  /** APP_URL without a trailing slash. */
  appUrl: string
  pack: string
  email: string
  customerIp: string
  postbackUrl?: string
  /** Verify this payment instead of creating one. */
  paymentId?: string
  /** Also read the Konnektive product list. */
  products?: boolean
}

const SECRET_KEY = /token|secret|password|passwd|authorization|api[-_]?key|signature/i
const MAX_PRINTED = 4000

export class ApayProbe {
  private failures = 0

  constructor(
    private gateway: ApayGateway,
    private print: (line: string) => void
  ) {}

  /** Returns the exit code: 0 when every call answered 2xx JSON. */
  async run(options: ProbeOptions) {
    this.print(`apay probe: environment ${this.gateway.environment}`)
    let paymentId = options.paymentId ?? null
    if (paymentId !== null && !normalizePaymentId(paymentId)) {
      this.print(`--payment-id ${JSON.stringify(paymentId.slice(0, 40))} is not a payment id`)
      return 1
    }

    if (!paymentId) {
      const pack = findPack(options.pack)
      if (!pack) {
        this.print(`Unknown pack ${JSON.stringify(options.pack)} (see config/prices.ts)`)
        return 1
      }
      const base = options.appUrl
      const body = this.gateway.initPaymentBody({
        orderId: 'probe',
        amountCents: pack.price,
        currency,
        description: `vgen probe: "${pack.name}" pack`,
        pack,
        customerEmail: options.email,
        customerIp: options.customerIp,
        /* The failure URL carries a query like real orders do: see how apay appends paymentId. */
        successUrl: `${base}/tokens`,
        failureUrl: `${base}/tokens?result=failed`,
        postbackUrl: options.postbackUrl ?? `${base}/webhooks/payments/apay`,
      })
      const answer = await this.call('POST', INIT_PAYMENT_PATH, body)
      const json = answer && this.jsonOf(answer)
      if (json) {
        try {
          const checkout = this.gateway.readInitAnswer(json)
          this.print(`  our reading: paymentLink ${checkout.redirectUrl}`)
          this.print(
            checkout.paymentId
              ? `  our reading: paymentId ${checkout.paymentId} (orders are tied to it at checkout)`
              : '  note: no paymentId in the answer: orders are tied to a payment only on the return or the postback'
          )
          paymentId = checkout.paymentId
        } catch (error) {
          this.fail(`  our reading: unusable: ${(error as Error).message}`)
        }
      }
    }

    if (paymentId) {
      const answer = await this.call('POST', PAYMENT_VERIFY_PATH, { paymentId })
      const json = answer && this.jsonOf(answer)
      if (json) this.explainVerify(paymentId, json)
    } else {
      this.print(
        'payment-verify skipped: no paymentId. Open the paymentLink, finish or cancel the payment, ' +
          'then run again with --payment-id=<the paymentId in the URL you come back to>.'
      )
    }

    if (options.products) {
      const answer = await this.call('GET', PRODUCTS_PATH)
      if (answer) this.jsonOf(answer)
    }
    return this.failures === 0 ? 0 : 1
  }

  private explainVerify(paymentId: string, json: Record<string, unknown>) {
    const verified = this.gateway.readVerifyAnswer(paymentId, json)
    const wrapped = isObject(json.data) ? 'data' : isObject(json.payment) ? 'payment' : null
    const fields = (wrapped ? json[wrapped] : json) as Record<string, unknown>
    this.print(`  our reading: fields ${wrapped ? `inside "${wrapped}"` : 'at the top level'}`)
    this.print(
      `  our reading: status "${verified.rawStatus}" → ${verified.status}` +
        (verified.status === 'pending' && verified.rawStatus !== 'pending'
          ? ' (a word we do not map: orders would stay pending; add it to apay.ts if it is final)'
          : '')
    )
    this.print(
      `  our reading: amount ${JSON.stringify(fields.amount)} (${typeof fields.amount}) → ` +
        `${verified.amountCents === null ? 'unreadable' : `${verified.amountCents} cents`}, ` +
        `currency ${verified.currency ?? 'missing'}`
    )
    const stated = fields.environment
    this.print(
      stated === undefined
        ? '  our reading: no environment in the answer'
        : `  our reading: environment ${JSON.stringify(stated)}` +
            (String(stated).toLowerCase() === this.gateway.environment
              ? ''
              : ` — NOT ${this.gateway.environment}: APAY_TOKEN and APAY_ENVIRONMENT do not match`)
    )
  }

  /** One call, printed both ways. Null when apay could not be reached. */
  private async call(method: 'GET' | 'POST', path: string, body?: unknown) {
    this.print('')
    this.print(`→ ${method} ${path}`)
    this.print(`  Authorization: Bearer ${this.gateway.maskedToken()}`)
    if (body !== undefined)
      this.print(indent(JSON.stringify(maskDeep(body, this.gateway), null, 2)))
    let answer: ApayAnswer
    try {
      answer = await this.gateway.call(method, path, body)
    } catch (error) {
      if (!(error instanceof GatewayUnavailableError)) throw error
      this.fail(`← ${this.gateway.maskToken(error.message)}`)
      return null
    }
    this.print(`← HTTP ${answer.httpStatus} (${answer.contentType ?? 'no content type'})`)
    if (answer.httpStatus < 200 || answer.httpStatus > 299) this.failures += 1
    return answer
  }

  /** Prints the answer's body and returns it when it is a JSON object. */
  private jsonOf(answer: ApayAnswer) {
    let json: unknown
    try {
      json = JSON.parse(answer.text)
    } catch {
      this.print(indent(this.gateway.maskToken(answer.text.slice(0, MAX_PRINTED)) || '(empty)'))
      if (answer.httpStatus >= 200 && answer.httpStatus <= 299) this.fail('  not JSON')
      return null
    }
    const printed = JSON.stringify(maskDeep(json, this.gateway), null, 2)
    this.print(indent(printed.length > MAX_PRINTED ? `${printed.slice(0, MAX_PRINTED)}…` : printed))
    if (answer.httpStatus < 200 || answer.httpStatus > 299) return null
    if (!isObject(json)) {
      this.fail('  not a JSON object')
      return null
    }
    return json
  }

  private fail(line: string) {
    this.failures += 1
    this.print(line)
  }
}

/** Values under secret-looking keys are masked; the token is masked wherever it appears. */
export function maskDeep(value: unknown, gateway: Pick<ApayGateway, 'maskToken'>): unknown {
  if (typeof value === 'string') return gateway.maskToken(value)
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, gateway))
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        SECRET_KEY.test(key) && item !== null && item !== undefined && item !== ''
          ? maskSecret(String(item))
          : maskDeep(item, gateway),
      ])
    )
  }
  return value
}

function indent(text: string) {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
