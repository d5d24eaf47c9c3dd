import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import { syncSignature } from '#integrations/generation/webhook_signatures'
import { HostedProviderFake, type FakeJob } from '#tests/fakes/hosted_provider_fake'

/*
 * A fake of sync.so's API v2 (../shared/providers.md): `x-api-key`,
 * `POST /v2/generate` with `Idempotency-Key` (a repeated key answers the
 * generation it made), `GET /v2/generate/{id}` with PENDING / PROCESSING /
 * COMPLETED / FAILED / REJECTED / CANCELED, `outputUrl` on success,
 * `error` + `error_code` on failure, and webhooks signed
 * `Sync-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>` with the
 * secret string as it is.
 */
export class FakeSyncServer extends HostedProviderFake {
  apiKey = 'sk-test-sync'
  webhookSecret = 'whsec_sync_test_secret'
  private byIdempotencyKey = new Map<string, string>()

  reset() {
    super.reset()
    this.byIdempotencyKey.clear()
  }

  protected authorized(req: IncomingMessage) {
    return req.headers['x-api-key'] === this.apiKey
  }

  view(job: FakeJob) {
    const base = {
      id: job.id,
      createdAt: new Date(job.createdAt).toISOString(),
      model: job.body.model,
      input: job.body.input,
      options: job.body.options,
      webhookUrl: job.webhookUrl ?? null,
    }
    if (job.phase === 3) return { ...base, status: 'CANCELED' }
    if (job.outcome === 'unknown' && job.phase >= 1) return { ...base, status: 'QUEUED_FOR_REVIEW' }
    if (job.phase === 0) return { ...base, status: 'PENDING' }
    if (job.phase === 1) return { ...base, status: 'PROCESSING' }
    switch (job.outcome) {
      case 'fail':
        return {
          ...base,
          status: 'FAILED',
          error: 'Face detection failed: no face found in frames 0-120 (detector v3.2)',
          error_code: 'generation_face_not_found',
        }
      case 'reject':
        return {
          ...base,
          status: 'REJECTED',
          error: 'Input rejected by moderation policy',
          error_code: 'content_moderation',
        }
      case 'cancel':
        return { ...base, status: 'CANCELED' }
      default:
        return { ...base, status: 'COMPLETED', outputUrl: this.outputUrl(job), outputDuration: 1.5 }
    }
  }

  protected async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string) {
    if (url.pathname === '/v2/generate' && req.method === 'POST') {
      this.submits += 1
      if (await this.fault('submit', res)) return true
      let parsed: any
      try {
        parsed = JSON.parse(body)
      } catch {
        this.json(res, 400, { message: 'Invalid JSON' })
        return true
      }
      if (!parsed?.model || !Array.isArray(parsed.input)) {
        this.json(res, 400, { message: 'model and input are required' })
        return true
      }
      const key = req.headers['idempotency-key']
      const known = typeof key === 'string' ? this.byIdempotencyKey.get(key) : undefined
      if (known && this.jobs.has(known)) {
        this.json(res, 201, this.view(this.jobs.get(known)!))
        return true
      }
      const job = this.createJob(randomUUID(), url.pathname, parsed, parsed.webhookUrl)
      if (typeof key === 'string') this.byIdempotencyKey.set(key, job.id)
      if (this.fetchInputs) await this.downloadInputs(parsed.input.map((entry: any) => entry.url))
      if (this.takeLate('submit')) await this.answerLate(res, 201, this.view(job))
      else this.json(res, 201, this.view(job))
      return true
    }
    const one = /^\/v2\/generate\/([\w-]+)$/.exec(url.pathname)
    if (one && req.method === 'GET') {
      return this.answerStatus(res, one[1], { message: 'Generation not found' }, (job) =>
        this.view(job)
      )
    }
    return false
  }

  async sendWebhook(
    id: string,
    options: {
      secret?: string
      timestamp?: number
      tamper?: boolean
      signature?: string
      body?: string
    } = {}
  ) {
    const job = this.webhookJob(id)
    const body = options.body ?? JSON.stringify(this.view(job))
    const t = String(options.timestamp ?? Math.floor(Date.now() / 1000))
    const v1 = syncSignature(options.secret ?? this.webhookSecret, t, body)
    const sent = options.tamper ? body.replace('"id"', '"id" ') : body
    return this.post(
      this.webhookTarget(job),
      { 'Sync-Signature': options.signature ?? `t=${t},v1=${v1}` },
      sent
    )
  }
}
