import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { standardWebhookSignature } from '#integrations/generation/webhook_signatures'
import { HostedProviderFake, type FakeJob } from '#tests/fakes/hosted_provider_fake'

/*
 * A fake of Replicate's predictions API (../shared/providers.md): Bearer
 * token, `POST /v1/models/{owner}/{name}/predictions` (or `/v1/predictions`
 * with a version), `GET /v1/predictions[/{id}]`, `POST …/cancel`, statuses
 * starting / processing / succeeded / failed / canceled / aborted, `output`
 * a URL, no idempotency key, outputs deleted after an hour (the `expire`
 * outcomes answer 404 for the file), and Standard Webhooks deliveries
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`).
 */
export class FakeReplicateServer extends HostedProviderFake {
  apiToken = 'r8_test_token'
  /* whsec_ + base64 of the key bytes, as GET /v1/webhooks/default/secret gives it. */
  webhookSecret = `whsec_${Buffer.from('replicate-test-signing-key-0123456789').toString('base64')}`

  protected authorized(req: IncomingMessage) {
    return req.headers.authorization === `Bearer ${this.apiToken}`
  }

  private statusOf(job: FakeJob) {
    if (job.phase === 3) return 'canceled'
    if (job.outcome === 'unknown' && job.phase >= 1) return 'queued_for_gpu'
    if (job.phase === 0) return 'starting'
    if (job.phase === 1) return 'processing'
    switch (job.outcome) {
      case 'fail':
        return 'failed'
      case 'cancel':
        return 'canceled'
      case 'reject':
        return 'aborted'
      default:
        return 'succeeded'
    }
  }

  view(job: FakeJob) {
    const status = this.statusOf(job)
    return {
      id: job.id,
      model: job.path,
      version: job.body.version ?? 'hidden',
      input: job.body.input,
      logs: '',
      output: status === 'succeeded' ? this.outputUrl(job) : null,
      error:
        status === 'failed'
          ? 'CUDA error: no face detected in input video (torch.cuda.OutOfMemoryError?)'
          : null,
      status,
      created_at: new Date(job.createdAt).toISOString(),
      webhook: job.webhookUrl,
      urls: {
        get: `${this.url}/v1/predictions/${job.id}`,
        cancel: `${this.url}/v1/predictions/${job.id}/cancel`,
      },
      metrics: status === 'succeeded' ? { predict_time: 4.2 } : {},
    }
  }

  protected async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string) {
    const official = /^\/v1\/models\/([\w.-]+)\/([\w.-]+)\/predictions$/.exec(url.pathname)
    if ((official || url.pathname === '/v1/predictions') && req.method === 'POST') {
      this.submits += 1
      if (await this.fault('submit', res)) return true
      let parsed: any
      try {
        parsed = JSON.parse(body)
      } catch {
        this.json(res, 400, { detail: 'Invalid JSON' })
        return true
      }
      if (!parsed?.input || (!official && !parsed.version)) {
        this.json(res, 422, { detail: 'input (and version) required' })
        return true
      }
      const model = official ? `${official[1]}/${official[2]}` : 'version'
      const job = this.createJob(randomBytes(13).toString('hex'), model, parsed, parsed.webhook)
      if (this.fetchInputs) {
        await this.downloadInputs(
          Object.values(parsed.input).filter(
            (value): value is string => typeof value === 'string' && value.startsWith('http')
          )
        )
      }
      if (this.takeLate('submit')) await this.answerLate(res, 201, this.view(job))
      else this.json(res, 201, this.view(job))
      return true
    }
    if (url.pathname === '/v1/predictions' && req.method === 'GET') {
      if (await this.fault('list', res)) return true
      const results = [...this.jobs.values()]
        .filter((job) => job.outcome !== 'forget')
        .reverse()
        .slice(0, 100)
        .map((job) => this.view(job))
      this.json(res, 200, { next: null, previous: null, results })
      return true
    }
    const cancel = /^\/v1\/predictions\/(\w+)\/cancel$/.exec(url.pathname)
    if (cancel && req.method === 'POST') {
      if (await this.fault('cancel', res)) return true
      const job = this.jobs.get(cancel[1])
      if (!job) {
        this.json(res, 404, { detail: 'Not found.' })
        return true
      }
      this.cancels.push(job.id)
      if (job.phase < 2) job.phase = 3
      this.json(res, 200, this.view(job))
      return true
    }
    const one = /^\/v1\/predictions\/(\w+)$/.exec(url.pathname)
    if (one && req.method === 'GET') {
      return this.answerStatus(res, one[1], { detail: 'Not found.' }, (job) => this.view(job))
    }
    return false
  }

  async sendWebhook(
    id: string,
    options: {
      secret?: string
      timestamp?: number
      tamper?: boolean
      webhookId?: string
      signature?: string
      body?: string
    } = {}
  ) {
    const job = this.webhookJob(id)
    const body = options.body ?? JSON.stringify(this.view(job))
    const webhookId = options.webhookId ?? `msg_${randomBytes(8).toString('hex')}`
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
    const signature =
      options.signature ??
      standardWebhookSignature(options.secret ?? this.webhookSecret, webhookId, timestamp, body)
    return this.post(
      this.webhookTarget(job),
      {
        'webhook-id': webhookId,
        'webhook-timestamp': timestamp,
        /* Real deliveries may carry several signatures during a key rotation. */
        'webhook-signature': `v1,${Buffer.from('old-key-signature').toString('base64')} ${signature}`,
      },
      options.tamper ? body.replace('"id"', '"id" ') : body
    )
  }
}
