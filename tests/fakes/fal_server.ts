import type { IncomingMessage, ServerResponse } from 'node:http'
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { falSignedMessage } from '#integrations/generation/webhook_signatures'
import { HostedProviderFake, type FakeJob } from '#tests/fakes/hosted_provider_fake'

/*
 * A fake of fal.ai's queue API (../shared/providers.md): `Authorization:
 * Key …`, `POST /{model_id}?fal_webhook=…` → `{request_id, status_url,
 * response_url, cancel_url}`, `GET /{app}/requests/{id}/status` with
 * IN_QUEUE / IN_PROGRESS / COMPLETED (a failed request is COMPLETED too:
 * its error is on the result, `GET /{app}/requests/{id}` answering 422 with
 * `detail`), `PUT …/cancel`, and ED25519-signed webhooks
 * (`X-Fal-Webhook-*`, message `request_id\nuser_id\ntimestamp\nsha256(body)`)
 * whose public keys it serves as a JWKS at `/.well-known/jwks.json`.
 * Status paths are accepted under the app id (`owner/alias`, as fal's SDK
 * builds them) and under the full model id (as the docs show them).
 */
export class FakeFalServer extends HostedProviderFake {
  key = 'fal-test-key:secret'
  userId = 'fal-user-42'
  jwksRequests = 0
  private signing: { privateKey: KeyObject; publicKey: KeyObject }
  private other: { privateKey: KeyObject; publicKey: KeyObject }

  constructor(outputFile: string) {
    super(outputFile)
    this.signing = generateKeyPairSync('ed25519')
    this.other = generateKeyPairSync('ed25519')
  }

  get jwksUrl() {
    return `${this.url}/.well-known/jwks.json`
  }

  protected authorized(req: IncomingMessage) {
    if ((req.url ?? '').startsWith('/.well-known/')) return true
    return req.headers.authorization === `Key ${this.key}`
  }

  private statusOf(job: FakeJob) {
    if (job.outcome === 'unknown' && job.phase >= 1) return 'IN_REVIEW'
    if (job.phase === 0) return 'IN_QUEUE'
    if (job.phase === 1) return 'IN_PROGRESS'
    return 'COMPLETED'
  }

  private urls(job: FakeJob) {
    const app = job.path.split('/').slice(0, 2).join('/')
    const base = `${this.url}/${app}/requests/${job.id}`
    return { status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` }
  }

  /** The result of a COMPLETED request: [http status, body]. */
  private result(job: FakeJob): [number, unknown] {
    if (job.phase === 3) return [400, { detail: 'Request was cancelled' }]
    switch (job.outcome) {
      case 'fail':
        return [
          422,
          {
            detail: [
              {
                loc: ['body', 'video_url'],
                msg: 'No face detected in the video (worker gpu-a100-17)',
                type: 'value_error',
              },
            ],
          },
        ]
      case 'reject':
        return [422, { detail: 'Content policy violation: input flagged by safety checker' }]
      case 'cancel':
        return [400, { detail: 'Request was cancelled' }]
      default:
        return [
          200,
          {
            video: {
              url: this.outputUrl(job),
              content_type: 'video/mp4',
              file_name: 'output.mp4',
              file_size: 12345,
            },
          },
        ]
    }
  }

  protected async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string) {
    if (url.pathname === '/.well-known/jwks.json' && req.method === 'GET') {
      this.jwksRequests += 1
      const jwk = (key: KeyObject) => ({ ...key.export({ format: 'jwk' }), kid: randomUUID() })
      this.json(res, 200, { keys: [jwk(this.other.publicKey), jwk(this.signing.publicKey)] })
      return true
    }
    const request = /^\/(.+)\/requests\/([\w-]+)(\/status|\/cancel)?$/.exec(url.pathname)
    if (request) {
      const [, prefix, id, action] = request
      const job = this.jobs.get(id)
      const samePlace = job && (job.path === prefix || job.path.startsWith(`${prefix}/`))
      if (action === '/status' && req.method === 'GET') {
        if (await this.fault('status', res)) return true
        if (!job || !samePlace || job.outcome === 'forget') {
          this.json(res, 404, { detail: 'Request not found' })
          return true
        }
        this.advance(job)
        this.json(res, 200, {
          status: this.statusOf(job),
          ...(job.phase === 0 ? { queue_position: 0 } : {}),
          ...this.urls(job),
        })
        return true
      }
      if (action === '/cancel' && req.method === 'PUT') {
        if (await this.fault('cancel', res)) return true
        if (!job || !samePlace) {
          this.json(res, 404, { detail: 'Request not found' })
          return true
        }
        this.cancels.push(job.id)
        if (job.phase >= 2) {
          this.json(res, 400, { status: 'ALREADY_COMPLETED' })
          return true
        }
        job.phase = 3
        job.finishedAt = Date.now()
        this.json(res, 202, { status: 'CANCELLATION_REQUESTED' })
        return true
      }
      if (!action && req.method === 'GET') {
        if (await this.fault('result', res)) return true
        if (!job || !samePlace || job.outcome === 'forget') {
          this.json(res, 404, { detail: 'Request not found' })
          return true
        }
        if (job.phase < 2) {
          this.json(res, 400, { detail: 'Request is still in progress' })
          return true
        }
        const [status, result] = this.result(job)
        this.json(res, status, result)
        return true
      }
      return false
    }
    if (req.method === 'POST' && /^\/[\w.-]+\/[\w.-]+(\/[\w./-]+)?$/.test(url.pathname)) {
      this.submits += 1
      if (await this.fault('submit', res)) return true
      let parsed: any
      try {
        parsed = JSON.parse(body)
      } catch {
        this.json(res, 422, { detail: 'Invalid JSON' })
        return true
      }
      const model = url.pathname.slice(1)
      const webhook = url.searchParams.get('fal_webhook') ?? undefined
      const job = this.createJob(randomUUID(), model, parsed, webhook)
      if (this.fetchInputs) {
        await this.downloadInputs(
          Object.entries(parsed)
            .filter(([name, value]) => name.endsWith('_url') && typeof value === 'string')
            .map(([, value]) => value as string)
        )
      }
      const answer = { request_id: job.id, status: 'IN_QUEUE', ...this.urls(job) }
      if (this.takeLate('submit')) await this.answerLate(res, 200, answer)
      else this.json(res, 200, answer)
      return true
    }
    return false
  }

  async sendWebhook(
    id: string,
    options: {
      timestamp?: number
      tamper?: boolean
      wrongKey?: boolean
      requestId?: string
      signature?: string
      body?: string
    } = {}
  ) {
    const job = this.webhookJob(id)
    const [status, result] = job.phase >= 2 ? this.result(job) : [200, null]
    const body =
      options.body ??
      JSON.stringify({
        request_id: job.id,
        gateway_request_id: job.id,
        status: status === 200 ? 'OK' : 'ERROR',
        payload: status === 200 ? result : null,
        error: status === 200 ? null : 'Invalid status code: 422',
      })
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
    const requestId = options.requestId ?? job.id
    const key = options.wrongKey
      ? generateKeyPairSync('ed25519').privateKey
      : this.signing.privateKey
    const signature =
      options.signature ??
      sign(null, falSignedMessage(requestId, this.userId, timestamp, body), key).toString('hex')
    return this.post(
      this.webhookTarget(job),
      {
        'X-Fal-Webhook-Request-Id': requestId,
        'X-Fal-Webhook-User-Id': this.userId,
        'X-Fal-Webhook-Timestamp': timestamp,
        'X-Fal-Webhook-Signature': signature,
      },
      options.tamper ? body.replace('"request_id"', '"request_id" ') : body
    )
  }
}
