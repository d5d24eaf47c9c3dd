import type { IncomingMessage, ServerResponse } from 'node:http'
import { FakeHttpServer } from '#tests/fakes/fake_http_server'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/*
 * A fake of the company's generation API (docs/generation-api.md) over real
 * HTTP. Each job follows the server's `mode` at submit time:
 *   succeed      queued → processing → succeeded, output downloadable
 *   fail         … → failed (error code no_face_detected)
 *   hang         stays processing forever
 *   manual       stays processing until `finish(id)` is called
 *   error500     every status request answers 500
 *   forget       the job is unknown (404) right after submit
 *   expire       succeeded, but its output URL always answers 410 Gone
 *   expire_once  the first output URL is expired, the next one works
 * `submitFailures` makes the next N submits answer 500 (without creating a
 * job); `submitDelayMs` creates the job at once but answers late (a client
 * that gives up meanwhile does not learn the id).
 */

export type FakeMode =
  'succeed' | 'fail' | 'hang' | 'manual' | 'error500' | 'forget' | 'expire' | 'expire_once'

type FakeJob = {
  id: string
  reference: string
  mode: FakeMode
  status: 'queued' | 'processing' | 'succeeded' | 'failed' | 'canceled'
  polls: number
  outputFetches: number
  body: any
  webhookUrl?: string
}

export class FakeGenerationServer {
  url = ''
  apiKey = 'test-generation-key'
  mode: FakeMode = 'succeed'
  submitFailures = 0
  submitDelayMs = 0
  webhookSecret = ''
  /* Download every input URL at submit (as the real service would) and record the answers. */
  fetchInputs = false
  inputBase = ''
  jobs = new Map<string, FakeJob>()
  submits = 0
  cancels: string[] = []
  inputFetches: { url: string; status: number; bytes: number }[] = []
  requests: { method: string; path: string; authorized: boolean }[] = []

  private http: FakeHttpServer
  private counter = 0

  constructor(private outputFile: string) {
    this.http = new FakeHttpServer((req, res) => {
      this.handle(req, res).catch((error) => {
        if (!res.headersSent) res.writeHead(500)
        res.end(String(error))
      })
    })
  }

  async start() {
    this.url = `http://127.0.0.1:${await this.http.listen()}`
    return this
  }

  async stop() {
    await this.http.close()
  }

  /** Back to defaults between tests (the server keeps running). */
  reset() {
    this.mode = 'succeed'
    this.submitFailures = 0
    this.submitDelayMs = 0
    this.webhookSecret = ''
    this.fetchInputs = false
    this.inputBase = ''
    this.jobs.clear()
    this.submits = 0
    this.cancels = []
    this.inputFetches = []
    this.requests = []
  }

  /** Manual mode: the job is done now (its output can be fetched). */
  finish(id: string) {
    const job = this.jobs.get(id)
    if (!job) return
    job.mode = 'succeed'
    if (job.status === 'queued' || job.status === 'processing') job.status = 'succeeded'
  }

  jobByReference(reference: string) {
    return [...this.jobs.values()].find((job) => job.reference === reference)
  }

  private json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  private view(job: FakeJob) {
    const succeeded = job.status === 'succeeded'
    return {
      id: job.id,
      status: job.status,
      reference: job.reference,
      output: succeeded
        ? {
            url: `${this.url}/outputs/${job.id}?n=${job.outputFetches}`,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
          }
        : null,
      error:
        job.status === 'failed' ? { code: 'no_face_detected', message: 'No face found' } : null,
    }
  }

  private async readBody(req: IncomingMessage) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', this.url)
    const authorized = req.headers.authorization === `Bearer ${this.apiKey}`
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorized })

    /* Pre-signed output downloads carry no API key. */
    const output = /^\/outputs\/([\w-]+)$/.exec(url.pathname)
    if (output && req.method === 'GET') {
      const job = this.jobs.get(output[1])
      if (!job) return this.json(res, 404, { error: 'not found' })
      job.outputFetches += 1
      if (job.mode === 'expire' || (job.mode === 'expire_once' && job.outputFetches === 1)) {
        return this.json(res, 410, { error: 'expired' })
      }
      const { size } = await stat(this.outputFile)
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': size })
      createReadStream(this.outputFile).pipe(res)
      return
    }

    if (!authorized) return this.json(res, 401, { error: { code: 'unauthorized' } })

    if (url.pathname === '/v1/jobs' && req.method === 'POST') {
      const body = JSON.parse(await this.readBody(req))
      this.submits += 1
      if (this.submitFailures > 0) {
        this.submitFailures -= 1
        return this.json(res, 500, { error: { code: 'internal' } })
      }
      const existing = this.jobByReference(body.reference)
      if (existing) return this.json(res, 200, this.view(existing))
      this.counter += 1
      const job: FakeJob = {
        id: `job_${this.counter}_${Math.random().toString(36).slice(2, 8)}`,
        reference: body.reference,
        mode: this.mode,
        status: 'queued',
        polls: 0,
        outputFetches: 0,
        body,
        webhookUrl: body.webhook_url,
      }
      this.jobs.set(job.id, job)
      if (this.fetchInputs) await this.downloadInputs(body.inputs)
      if (this.submitDelayMs) await sleep(this.submitDelayMs)
      return this.json(res, 201, this.view(job))
    }

    if (url.pathname === '/v1/jobs' && req.method === 'GET') {
      const reference = url.searchParams.get('reference')
      const data = [...this.jobs.values()]
        .filter((job) => job.reference === reference && job.mode !== 'forget')
        .map((job) => this.view(job))
      return this.json(res, 200, { data })
    }

    const cancel = /^\/v1\/jobs\/([\w-]+)\/cancel$/.exec(url.pathname)
    if (cancel && req.method === 'POST') {
      const job = this.jobs.get(cancel[1])
      if (!job) return this.json(res, 404, { error: { code: 'not_found' } })
      this.cancels.push(job.id)
      job.status = 'canceled'
      return this.json(res, 200, this.view(job))
    }

    const one = /^\/v1\/jobs\/([\w-]+)$/.exec(url.pathname)
    if (one && req.method === 'GET') {
      const job = this.jobs.get(one[1])
      if (!job || job.mode === 'forget')
        return this.json(res, 404, { error: { code: 'not_found' } })
      if (job.mode === 'error500') return this.json(res, 500, { error: { code: 'internal' } })
      this.advance(job)
      return this.json(res, 200, this.view(job))
    }

    return this.json(res, 404, { error: { code: 'no_route' } })
  }

  /** Each status request moves a job one step along its mode's path. */
  private advance(job: FakeJob) {
    job.polls += 1
    if (job.status === 'canceled' || job.status === 'succeeded' || job.status === 'failed') return
    if (job.status === 'queued') {
      job.status = 'processing'
      return
    }
    if (job.mode === 'hang' || job.mode === 'manual') return
    job.status = job.mode === 'fail' ? 'failed' : 'succeeded'
  }

  /** Sends a signed webhook for a job to the URL it was submitted with. */
  async sendWebhook(
    id: string,
    options: { secret?: string; tamper?: boolean; timestamp?: number } = {}
  ) {
    const job = this.jobs.get(id)
    if (!job?.webhookUrl) throw new Error('job has no webhook URL')
    const body = JSON.stringify({ id: job.id, status: job.status })
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
    /* Loaded here, not at the top: the fake also runs outside the app (npm run chaos). */
    const { webhookSignature } = await import('#services/tasks/signing')
    const signature = webhookSignature(options.secret ?? this.webhookSecret, timestamp, body)
    const target = this.inputBase
      ? new URL(new URL(job.webhookUrl).pathname, this.inputBase)
      : job.webhookUrl
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Timestamp': timestamp,
        'X-Signature': signature,
      },
      body: options.tamper ? body.replace('}', ',"x":1}') : body,
    })
    return response.status
  }

  private async downloadInputs(inputs: { url: string }[]) {
    for (const input of inputs) {
      /* Tests may run the app on a port other than APP_URL's: keep path and query, swap the origin. */
      const signed = new URL(input.url)
      const target = this.inputBase
        ? new URL(signed.pathname + signed.search, this.inputBase)
        : signed
      const response = await fetch(target)
      const bytes = (await response.arrayBuffer()).byteLength
      this.inputFetches.push({ url: input.url, status: response.status, bytes })
    }
  }
}
