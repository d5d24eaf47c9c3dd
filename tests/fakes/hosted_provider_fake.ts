import type { IncomingMessage, ServerResponse } from 'node:http'
import { FakeHttpServer } from '#tests/fakes/fake_http_server'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/*
 * What the three hosted-provider fakes (sync.so, Replicate, fal) share: a
 * real HTTP server on 127.0.0.1, jobs that move on each status request (or
 * at a time, for the bench), outputs served from a file, and one-shot
 * faults on the next calls of a kind: 5xx, 429 with Retry-After, a timeout,
 * garbage, an HTML error page or a huge body instead of JSON. Each
 * subclass speaks its provider's documented paths, words and webhooks.
 */

/** How a job ends. */
export type Outcome =
  | 'succeed'
  | 'fail'
  | 'reject'
  | 'cancel'
  | 'hang'
  | 'manual'
  | 'forget'
  | 'expire'
  | 'expire_once'
  /* keeps answering a status word the adapter does not know */
  | 'unknown'

export type CallKind = 'submit' | 'status' | 'result' | 'cancel' | 'list'
/* `late`: the job is created but the answer comes after the client gave up. */
export type FaultType =
  '500' | '503' | '429' | 'timeout' | 'late' | 'garbage' | 'html' | 'huge' | 'empty'

export type FakeJob = {
  id: string
  outcome: Outcome
  /** 0 queued, 1 running, 2 finished (per outcome), 3 canceled by us */
  phase: 0 | 1 | 2 | 3
  body: any
  path: string
  webhookUrl?: string
  polls: number
  outputFetches: number
  createdAt: number
  /** Time mode: the job is done at this time (ms since epoch). */
  doneAt?: number
  /** When the job became done, for latency measurements. */
  finishedAt?: number
  /** Time mode: when our app answered the job's webhook. */
  webhookAnsweredAt?: number
  webhooksSent: number
}

export abstract class HostedProviderFake {
  url = ''
  outcome: Outcome = 'succeed'
  jobs = new Map<string, FakeJob>()
  submits = 0
  cancels: string[] = []
  requests: { method: string; path: string; authorized: boolean }[] = []
  /** Download the input URLs at submit, as the real services do; answers recorded. */
  fetchInputs = false
  inputFetches: { url: string; status: number; bytes: number }[] = []
  /** Rewrites our app's origin (tests run the app on another port than APP_URL). */
  appBase = ''
  /** Time mode (bench): jobs finish after a random time in [min, max] ms, not per poll. */
  timed: { minMs: number; maxMs: number } | null = null
  /** Time mode: send the webhook the moment a job finishes. */
  autoWebhook = false
  timeoutMs = 20_000
  /** Job ids whose output download stalls after the headers (a slow storage host). */
  stalledOutputs = new Set<string>()
  private faults: { kind: CallKind; type: FaultType; retryAfter?: string }[] = []
  private http: FakeHttpServer
  private timers = new Set<NodeJS.Timeout>()
  protected counter = 0

  constructor(protected outputFile: string) {
    this.http = new FakeHttpServer((req, res) => {
      this.dispatch(req, res).catch((error) => {
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
    for (const timer of this.timers) clearTimeout(timer)
    await this.http.close()
  }

  reset() {
    this.outcome = 'succeed'
    this.jobs.clear()
    this.submits = 0
    this.cancels = []
    this.requests = []
    this.fetchInputs = false
    this.inputFetches = []
    this.appBase = ''
    this.faults = []
    this.timed = null
    this.autoWebhook = false
    this.stalledOutputs.clear()
  }

  /** The next `count` calls of `kind` fail with `type` (in order of calls). */
  fail(kind: CallKind, type: FaultType, count = 1, retryAfter?: string) {
    for (let i = 0; i < count; i++) this.faults.push({ kind, type, retryAfter })
    return this
  }

  /** Manual outcome: the job is done now. */
  finish(id: string, outcome: Outcome = 'succeed') {
    const job = this.jobs.get(id)
    if (!job || job.phase >= 2) return
    job.outcome = outcome
    job.phase = 2
    job.finishedAt = Date.now()
  }

  protected abstract authorized(req: IncomingMessage): boolean
  /** Handles an API call; false when no route matched. */
  protected abstract route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: string
  ): Promise<boolean>
  /** Sends the provider's signed webhook for a job. */
  abstract sendWebhook(id: string, options?: Record<string, unknown>): Promise<number>

  /**
   * A status GET of job `id` (sync.so, Replicate): an injected fault, the
   * provider's own 404 body `notFound` for an unknown or forgotten job, else
   * the job moved one step along and shown as `view` shows it.
   */
  protected async answerStatus(
    res: ServerResponse,
    id: string,
    notFound: unknown,
    view: (job: FakeJob) => unknown
  ) {
    if (await this.fault('status', res)) return true
    const job = this.jobs.get(id)
    if (!job || job.outcome === 'forget') {
      this.json(res, 404, notFound)
      return true
    }
    this.advance(job)
    this.json(res, 200, view(job))
    return true
  }

  /** The job a webhook is about to be sent for, counted. */
  protected webhookJob(id: string) {
    const job = this.jobs.get(id)
    if (!job) throw new Error(`no job ${id}`)
    job.webhooksSent += 1
    return job
  }

  protected newId(prefix = '') {
    this.counter += 1
    return `${prefix}${this.counter.toString(36)}${Math.random().toString(36).slice(2, 10)}`
  }

  /** Registers a new job (and in time mode schedules its end). */
  protected createJob(id: string, path: string, body: any, webhookUrl?: string) {
    const job: FakeJob = {
      id,
      outcome: this.outcome,
      phase: 0,
      body,
      path,
      webhookUrl,
      polls: 0,
      outputFetches: 0,
      createdAt: Date.now(),
      webhooksSent: 0,
    }
    if (this.timed) {
      const span = this.timed.maxMs - this.timed.minMs
      job.doneAt = job.createdAt + this.timed.minMs + Math.random() * span
      job.phase = 1
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (job.phase >= 2) return
        job.phase = 2
        job.finishedAt = Date.now()
        if (this.autoWebhook && job.webhookUrl)
          void this.sendWebhook(job.id)
            .then(() => (job.webhookAnsweredAt = Date.now()))
            .catch(() => {})
      }, job.doneAt - job.createdAt)
      this.timers.add(timer)
    }
    this.jobs.set(id, job)
    return job
  }

  /** One status request: moves a per-poll job one step (queued → running → done). */
  protected advance(job: FakeJob) {
    job.polls += 1
    if (this.timed || job.phase >= 2) return
    if (job.phase === 0) {
      job.phase = 1
      return
    }
    if (job.outcome === 'hang' || job.outcome === 'manual' || job.outcome === 'unknown') return
    job.phase = 2
    job.finishedAt = Date.now()
  }

  /** Whether the job's output can be downloaded at this fetch (expire modes). */
  protected outputExpired(job: FakeJob) {
    job.outputFetches += 1
    return job.outcome === 'expire' || (job.outcome === 'expire_once' && job.outputFetches === 1)
  }

  json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  /** A pending `late` fault for `kind`: the caller creates the job, then answers too late. */
  protected takeLate(kind: CallKind) {
    const index = this.faults.findIndex((fault) => fault.kind === kind && fault.type === 'late')
    if (index === -1) return false
    this.faults.splice(index, 1)
    return true
  }

  protected async answerLate(res: ServerResponse, status: number, body: unknown) {
    await sleep(this.timeoutMs)
    if (!res.destroyed) this.json(res, status, body)
  }

  /** Applies a pending fault for `kind`; true when the call was answered by it. */
  protected async fault(kind: CallKind, res: ServerResponse) {
    const index = this.faults.findIndex((fault) => fault.kind === kind && fault.type !== 'late')
    if (index === -1) return false
    const [fault] = this.faults.splice(index, 1)
    switch (fault.type) {
      case '500':
      case '503':
        this.json(res, Number(fault.type), { error: 'internal error' })
        return true
      case '429':
        this.json(
          res,
          429,
          { detail: 'Request was throttled.' },
          { 'Retry-After': fault.retryAfter ?? '2' }
        )
        return true
      case 'timeout':
        /* Never answers in time; the client gives up first. */
        await sleep(this.timeoutMs)
        if (!res.writableEnded) this.json(res, 200, {})
        return true
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end('{"id": "x", "status": ')
        return true
      case 'html':
        res.writeHead(502, { 'Content-Type': 'text/html' })
        res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
        return true
      case 'huge': {
        /* 8 MB of JSON-looking text, streamed. */
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.write('{"id":"')
        const chunk = 'x'.repeat(64 * 1024)
        for (let i = 0; i < 128 && !res.destroyed; i++) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
        }
        res.end('"}')
        return true
      }
      case 'empty':
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end()
        return true
      default:
        return false
    }
  }

  private async readBody(req: IncomingMessage) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', this.url)
    const authorized = this.authorized(req)
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorized })
    const body = await this.readBody(req)

    /* Output files: public or pre-signed, no API key. */
    const output = /^\/files\/([\w-]+)\/output\.mp4$/.exec(url.pathname)
    if (output && req.method === 'GET') {
      const job = this.jobs.get(output[1])
      if (!job || this.outputExpired(job)) {
        res.writeHead(404, { 'Content-Type': 'text/plain' })
        res.end('Not Found')
        return
      }
      const { size } = await stat(this.outputFile)
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': size })
      if (this.stalledOutputs.has(job.id)) {
        res.write(Buffer.alloc(1024))
        return
      }
      createReadStream(this.outputFile).pipe(res)
      return
    }
    if (!authorized) return this.json(res, 401, { detail: 'Unauthenticated' })
    if (await this.route(req, res, url, body)) return
    this.json(res, 404, { detail: 'Not found' })
  }

  protected outputUrl(job: FakeJob) {
    return `${this.url}/files/${job.id}/output.mp4`
  }

  /** Where to deliver a webhook: the registered URL, moved to the app's real origin in tests. */
  protected webhookTarget(job: FakeJob) {
    if (!job.webhookUrl) throw new Error('job has no webhook URL')
    if (!this.appBase) return job.webhookUrl
    const registered = new URL(job.webhookUrl)
    return new URL(registered.pathname + registered.search, this.appBase).toString()
  }

  protected async downloadInputs(urls: string[]) {
    for (const input of urls) {
      const signed = new URL(input)
      const target = this.appBase ? new URL(signed.pathname + signed.search, this.appBase) : signed
      const response = await fetch(target)
      const bytes = (await response.arrayBuffer()).byteLength
      this.inputFetches.push({ url: input, status: response.status, bytes })
    }
  }

  protected async post(target: string, headers: Record<string, string>, body: string) {
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    })
    await response.arrayBuffer().catch(() => {})
    return response.status
  }
}
