import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FakeApay } from '../../tests/fakes/apay_server.js'

/*
 * One simulated customer of the chaos run, speaking only HTTP to the app
 * (the same forms, headers and JSON a browser and the task page's script
 * use) and reading its mails from the dev mailer's files. The web process
 * may die under any request: a refused or reset connection, a timeout or a
 * 5xx is retried after a short pause, exactly as a person would press the
 * button again. The customer also plays its payment provider's part: it
 * pays (or declines) at the fake apay and delivers apay's postback.
 */

export type Stats = {
  signups: number
  activated: number
  tasks: number
  uploads: number
  /** tus uploads, and how many times one resumed from the server's offset after a failure. */
  resumableUploads: number
  resumes: number
  /** Uploads the server acknowledged (tus offset complete) that never became the task's input. */
  lostUploads: string[]
  launches: number
  regenerations: number
  rejectedLaunches: number
  ordersStarted: number
  ordersPaid: number
  ordersDeclined: number
  postbacks: number
  retries: number
  /** Why steps were retried (step: reason → count), for the summary. */
  retryReasons: Map<string, number>
  /** 5xx answers: the app failed a request without being killed during it. */
  serverErrors: string[]
  /** What each customer did at apay: payment id → order and the customer's choice. */
  payments: Map<string, { orderId: string; outcome: 'paid' | 'failed'; email: string }>
  /** Runs a customer saw launched (id → task). */
  runs: Map<string, string>
  /** Things a customer gave up on (never settled, never finished). */
  stuck: string[]
}

export function emptyStats(): Stats {
  return {
    signups: 0,
    activated: 0,
    tasks: 0,
    uploads: 0,
    resumableUploads: 0,
    resumes: 0,
    lostUploads: [],
    launches: 0,
    regenerations: 0,
    rejectedLaunches: 0,
    ordersStarted: 0,
    ordersPaid: 0,
    ordersDeclined: 0,
    postbacks: 0,
    retries: 0,
    retryReasons: new Map(),
    serverErrors: [],
    payments: new Map(),
    runs: new Map(),
    stuck: [],
  }
}

type Mail = { to: string[]; text: string }

export type World = {
  base: string
  mailbox: string
  /** The mailbox's files, parsed (shared by the customers). */
  mails: Map<string, Mail>
  apay: FakeApay
  media: { video: Buffer; audio: Buffer }
  random: () => number
  stats: Stats
  /** No new task or purchase starts after this (ms since epoch). */
  chaosEndsAt: number
  /** Work still under way is abandoned after this (reported as stuck). */
  giveUpAt: number
}

/** Not the answer we wanted: try the step again. */
class Retry extends Error {}

type RunView = { id: string; status: string; refunded: boolean; cost: number }
type TaskStatus = { active: boolean; balance: number; runs: RunView[] }

const PASSWORD = 'chaos customer password 1'
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/

export class Customer {
  readonly email: string
  private cookies = new Map<string, string>()
  private ip: string
  private seenMails = new Set<string>()

  constructor(
    readonly index: number,
    private world: World,
    runTag: string
  ) {
    this.email = `chaos-${runTag}-${index}@example.com`
    /* Each customer behind the (trusted) proxy with its own address, as in production. */
    this.ip = `198.51.100.${index + 1}`
  }

  private get stats() {
    return this.world.stats
  }

  private chance(p: number) {
    return this.world.random() < p
  }

  /** The customer's whole visit: sign up, then tasks until the chaos phase ends. */
  async life() {
    await this.signUp()
    let first = true
    while (Date.now() < this.world.chaosEndsAt) {
      await this.oneTask(first)
      first = false
    }
  }

  /* ---- HTTP, like a browser ---- */

  private async send(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers)
    headers.set('x-forwarded-for', this.ip)
    if (this.cookies.size)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const response = await fetch(new URL(path, this.world.base), {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const index = pair.indexOf('=')
      const value = pair.slice(index + 1)
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(cookie) || value === '')
        this.cookies.delete(pair.slice(0, index))
      else this.cookies.set(pair.slice(0, index), value)
    }
    if (response.status >= 500) {
      this.stats.serverErrors.push(`${init.method ?? 'GET'} ${path} → ${response.status}`)
      await response.body?.cancel()
      throw new Retry(`${response.status}`)
    }
    return response
  }

  /** Runs `step` until it succeeds; network errors, 5xx and Retry mean "press again". */
  private async attempt<T>(what: string, step: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await step()
      } catch (error) {
        if (!(error instanceof Retry) && !isNetworkError(error)) throw error
        if (Date.now() > this.world.giveUpAt)
          throw new Error(`${this.email}: gave up on ${what} (${(error as Error).message})`)
        this.stats.retries += 1
        const reason = `${what}: ${(error as Error).message.replace(UUID, ':id').slice(0, 80)}`
        this.stats.retryReasons.set(reason, (this.stats.retryReasons.get(reason) ?? 0) + 1)
        await sleep(200 + this.world.random() * 800)
      }
    }
  }

  private async csrf(path: string) {
    const response = await this.send(path)
    const page = await response.text()
    const token = page.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)?.[1]
    if (!token) throw new Retry(`no CSRF token on ${path} (${response.status})`)
    return token
  }

  private async submit(formPath: string, action: string, fields: Record<string, string>) {
    const token = await this.csrf(formPath)
    return this.send(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, _csrf: token }).toString(),
    })
  }

  private async json<T>(path: string): Promise<T> {
    const response = await this.send(path, { headers: { accept: 'application/json' } })
    if (response.status !== 200) throw new Retry(`${path} answered ${response.status}`)
    return (await response.json()) as T
  }

  /* ---- account ---- */

  private async signUp() {
    await this.attempt('sign-up', async () => {
      const response = await this.submit('/signup', '/signup', {
        email: this.email,
        password: PASSWORD,
        passwordConfirmation: PASSWORD,
      })
      await response.body?.cancel()
      if (response.status !== 302) throw new Retry(`sign-up answered ${response.status}`)
    })
    this.stats.signups += 1
    for (;;) {
      const link = await this.waitForMail('/activate/', 40_000)
      if (link) {
        await this.attempt('activation', async () => {
          const response = await this.send(link)
          await response.body?.cancel()
          if (response.status >= 400) throw new Retry(`activation answered ${response.status}`)
        })
      }
      /* Logging in also asks for a new activation mail while the account is not active. */
      if (await this.logIn()) break
      if (Date.now() > this.world.giveUpAt) throw new Error(`${this.email}: never activated`)
    }
    this.stats.activated += 1
  }

  private async logIn() {
    return this.attempt('login', async () => {
      const response = await this.submit('/login', '/login', {
        email: this.email,
        password: PASSWORD,
      })
      await response.body?.cancel()
      if (response.status !== 302) throw new Retry(`login answered ${response.status}`)
      return response.headers.get('location') === '/tasks'
    })
  }

  /** The newest link under `pathPrefix` in a mail to us not used before, or null after `ms`. */
  private async waitForMail(pathPrefix: string, ms: number) {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      let names: string[] = []
      try {
        names = (await readdir(this.world.mailbox)).filter((name) => name.endsWith('.json'))
      } catch {}
      for (const name of names.sort().reverse()) {
        if (this.seenMails.has(name)) continue
        /* Each file is read once for all customers (a mailbox of hundreds, polled by twenty). */
        let mail = this.world.mails.get(name)
        if (!mail) {
          try {
            mail = JSON.parse(await readFile(join(this.world.mailbox, name), 'utf8')) as Mail
          } catch {
            continue /* still being written */
          }
          this.world.mails.set(name, mail)
        }
        if (!mail.to.includes(this.email)) continue
        const link = (mail.text.match(/https?:\/\/\S+/g) ?? []).find((candidate) =>
          new URL(candidate).pathname.startsWith(pathPrefix)
        )
        if (!link) continue
        this.seenMails.add(name)
        const url = new URL(link)
        return url.pathname + url.search
      }
      await sleep(300)
    }
    return null
  }

  /* ---- tokens ---- */

  /** Buys packs until one is paid (a customer may decline at the provider first). */
  private async buy() {
    for (;;) {
      if (Date.now() > this.world.giveUpAt) throw new Error(`${this.email}: never got tokens`)
      const pack = this.chance(0.7) ? 'small' : 'medium'
      const link = await this.attempt('order', async () => {
        const response = await this.submit('/tokens', '/tokens/orders', { pack })
        await response.body?.cancel()
        const location = response.headers.get('location') ?? ''
        if (response.status !== 302 || !location.startsWith(this.world.apay.url))
          throw new Retry(`order answered ${response.status} → ${location}`)
        return location
      })
      this.stats.ordersStarted += 1
      const paymentId = link.split('/').pop()!
      const payment = this.world.apay.payments.get(paymentId)
      if (!payment) throw new Error(`apay has no payment ${paymentId}`)
      const orderId = new URL(payment.body.successCallback).pathname.split('/').pop()!
      const outcome = this.chance(0.85) ? ('paid' as const) : ('failed' as const)
      this.world.apay.set(outcome, paymentId)
      this.stats.payments.set(paymentId, { orderId, outcome, email: this.email })

      /* apay's postback and the customer's return race, as they do for real. */
      const [status] = await Promise.all([
        this.returnFromCheckout(orderId, paymentId, outcome),
        this.deliverPostback(payment.body.postbackUrl, paymentId),
      ])
      if (status === 'paid') {
        this.stats.ordersPaid += 1
        return
      }
      this.stats.ordersDeclined += 1
    }
  }

  /** The provider's side: POST the postback until the app takes it (apay retries too). */
  private async deliverPostback(url: string, paymentId: string) {
    await sleep(this.world.random() * 1500)
    let pause = 500
    while (Date.now() < this.world.giveUpAt) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(this.world.apay.postbackFor(paymentId)),
          signal: AbortSignal.timeout(30_000),
        })
        await response.body?.cancel()
        this.stats.postbacks += 1
        if (response.status === 200) return
        if (response.status >= 500) this.stats.serverErrors.push(`postback → ${response.status}`)
      } catch (error) {
        if (!isNetworkError(error)) throw error
      }
      await sleep(pause)
      pause = Math.min(pause * 2, 5000)
    }
  }

  /** Back on the "payment processing" page: it polls and asks for a check until settled. */
  private async returnFromCheckout(orderId: string, paymentId: string, outcome: string) {
    const query = `${outcome === 'failed' ? 'result=failed&' : ''}paymentId=${paymentId}`
    const page = `/tokens/orders/${orderId}?${query}`
    for (;;) {
      const status = await this.attempt('order check', async () => {
        const token = await this.csrf(page)
        const response = await this.send(`/tokens/orders/${orderId}/check`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'accept': 'application/json',
          },
          body: new URLSearchParams({ _csrf: token, paymentId }).toString(),
        })
        if (response.status !== 200) throw new Retry(`check answered ${response.status}`)
        return ((await response.json()) as { status: string }).status
      })
      if (status !== 'pending') return status
      if (Date.now() > this.world.giveUpAt) {
        this.stats.stuck.push(`order ${orderId} still pending`)
        return status
      }
      await sleep(1000)
    }
  }

  /* ---- tasks and runs ---- */

  private async oneTask(first: boolean) {
    const taskId = await this.attempt('create task', async () => {
      const response = await this.submit('/tasks/new', '/tasks', {
        name: `Chaos clip ${this.index}-${this.stats.tasks + 1}`,
        model: 'lipsync',
      })
      await response.body?.cancel()
      const id = response.headers.get('location')?.match(UUID)?.[0]
      if (response.status !== 302 || !id) throw new Retry(`task answered ${response.status}`)
      return id
    })
    this.stats.tasks += 1
    await this.upload(taskId, 'video')
    await this.upload(taskId, 'audio')

    let status = await this.attempt('status', () =>
      this.json<TaskStatus>(`/tasks/${taskId}/status`)
    )
    /* Some customers press Launch before buying: refused, recorded, nothing charged. */
    if (first && this.chance(0.3) && status.balance < 100) await this.launch(taskId)
    const regenerations = 1 + Math.floor(this.world.random() * 2)
    for (let round = 0; round <= regenerations; round++) {
      if (round > 0 && Date.now() > this.world.chaosEndsAt) break
      status = await this.attempt('status', () => this.json<TaskStatus>(`/tasks/${taskId}/status`))
      /* Low on tokens, or topping up anyway now and then (more checkouts to race). */
      if (status.balance < 200 || (round === 0 && this.chance(0.3))) await this.buy()
      const runId = await this.launch(taskId)
      if (!runId) continue
      if (round > 0) this.stats.regenerations += 1
      await this.waitForRun(taskId, runId)
    }
  }

  private async upload(taskId: string, kind: 'video' | 'audio') {
    const file = kind === 'video' ? this.world.media.video : this.world.media.audio
    const name = kind === 'video' ? 'clip.mp4' : 'voice.mp3'
    /* Every real route: the page's raw PUT, the form without JavaScript, and tus at /uploads. */
    const roll = this.world.random()
    if (roll < 1 / 3) await this.resumableUpload(taskId, kind, file, name)
    else await this.plainUpload(taskId, kind, file, name, roll < 2 / 3)
    this.stats.uploads += 1
  }

  private async plainUpload(
    taskId: string,
    kind: 'video' | 'audio',
    file: Buffer,
    name: string,
    raw: boolean
  ) {
    await this.attempt(`upload ${kind}`, async () => {
      const token = await this.csrf(`/tasks/${taskId}`)
      const path = `/tasks/${taskId}/inputs/${kind}`
      let response: Response
      if (raw) {
        response = await this.send(path, {
          method: 'PUT',
          headers: {
            'content-type': 'application/octet-stream',
            'x-file-name': name,
            'x-csrf-token': token,
            'accept': 'application/json',
          },
          body: new Uint8Array(file),
        })
      } else {
        const form = new FormData()
        form.append('file', new Blob([new Uint8Array(file)]), name)
        response = await this.send(`${path}?_csrf=${encodeURIComponent(token)}`, {
          method: 'POST',
          headers: { accept: 'application/json' },
          body: form,
        })
      }
      const text = await response.text()
      if (response.status !== 201) throw new Retry(`upload answered ${response.status}: ${text}`)
    })
  }

  /**
   * tus 1.0.0 like a resumable client: create, then PATCH in small chunks
   * with a pause between them (so kills land mid-upload); after a failure,
   * HEAD for the server's offset and go on from there. A client takes an
   * offset equal to the length as "done", so that is checked against the
   * task afterwards: acknowledged bytes must have become the input.
   */
  private async resumableUpload(
    taskId: string,
    kind: 'video' | 'audio',
    file: Buffer,
    name: string
  ) {
    const tus = { 'tus-resumable': '1.0.0' }
    const metadata = Object.entries({ task: taskId, kind, filename: name })
      .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
      .join(',')
    const token = await this.attempt('csrf', () => this.csrf(`/tasks/${taskId}`))
    const location = await this.attempt(`tus create ${kind}`, async () => {
      const response = await this.send('/uploads', {
        method: 'POST',
        headers: {
          ...tus,
          'upload-length': String(file.length),
          'upload-metadata': metadata,
          'x-csrf-token': token,
        },
      })
      await response.body?.cancel()
      const url = response.headers.get('location')
      if (response.status !== 201 || !url) throw new Retry(`tus create answered ${response.status}`)
      return new URL(url, this.world.base).pathname
    })
    this.stats.resumableUploads += 1
    const chunk = Math.ceil(file.length / 4)
    let offset = 0
    let finalAnswer = false
    while (offset < file.length) {
      try {
        const response = await this.send(location, {
          method: 'PATCH',
          headers: {
            ...tus,
            'upload-offset': String(offset),
            'content-type': 'application/offset+octet-stream',
            'x-csrf-token': token,
          },
          body: new Uint8Array(file.subarray(offset, offset + chunk)),
        })
        const text = await response.text()
        if (response.status !== 204)
          throw new Retry(`tus PATCH answered ${response.status}: ${text}`)
        offset = Number(response.headers.get('upload-offset'))
        finalAnswer = offset >= file.length
        await sleep(this.world.random() * 300)
      } catch (error) {
        if (!(error instanceof Retry) && !isNetworkError(error)) throw error
        if (Date.now() > this.world.giveUpAt) throw new Error(`${this.email}: gave up on tus`)
        this.stats.retries += 1
        await sleep(200 + this.world.random() * 800)
        const head = await this.attempt('tus HEAD', async () => {
          const answer = await this.send(location, { method: 'HEAD', headers: tus })
          await answer.body?.cancel()
          return { status: answer.status, offset: Number(answer.headers.get('upload-offset')) }
        })
        /* Gone (404: finished or refused; 410: its bytes already moved): the task says which. */
        if (head.status === 404 || head.status === 410) break
        if (head.status !== 200) throw new Error(`tus HEAD answered ${head.status}`)
        this.stats.resumes += 1
        offset = head.offset
      }
    }
    const stored = await this.attempt('input check', async () => {
      const response = await this.send(`/tasks/${taskId}/inputs/${kind}`)
      await response.body?.cancel()
      return response.status === 200
    })
    if (stored) return
    if (offset >= file.length)
      this.stats.lostUploads.push(
        `${kind} of task ${taskId}: tus said complete (${finalAnswer ? 'final PATCH' : 'HEAD'}) but no input`
      )
    /* Not stored: upload it again, as the customer would. */
    await this.plainUpload(taskId, kind, file, name, true)
  }

  /** Presses Launch (or Regenerate); the new run's id, or null when it was refused. */
  private async launch(taskId: string) {
    const before = await this.attempt('status', () =>
      this.json<TaskStatus>(`/tasks/${taskId}/status`)
    )
    const known = new Set(before.runs.map((run) => run.id))
    await this.attempt('launch', async () => {
      const response = await this.submit(`/tasks/${taskId}`, `/tasks/${taskId}/runs`, {})
      await response.body?.cancel()
      if (response.status !== 302) throw new Retry(`launch answered ${response.status}`)
    })
    const after = await this.attempt('status', () =>
      this.json<TaskStatus>(`/tasks/${taskId}/status`)
    )
    const created = after.runs.find((run) => !known.has(run.id))
    if (!created) {
      this.stats.rejectedLaunches += 1
      return null
    }
    this.stats.launches += 1
    this.stats.runs.set(created.id, taskId)
    return created.id
  }

  private async waitForRun(taskId: string, runId: string) {
    for (;;) {
      const status = await this.attempt('status', () =>
        this.json<TaskStatus>(`/tasks/${taskId}/status`)
      )
      const run = status.runs.find((candidate) => candidate.id === runId)
      if (run && run.status !== 'queued' && run.status !== 'running') return run
      if (Date.now() > this.world.giveUpAt) {
        this.stats.stuck.push(`run ${runId} still ${run?.status ?? 'missing'}`)
        return run
      }
      await sleep(1000)
    }
  }
}

/** A refused/reset connection or a timeout: the web process is down or was killed mid-request. */
export function isNetworkError(error: unknown) {
  if (!(error instanceof Error)) return false
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true
  /* undici: "fetch failed" (refused, reset before the answer) or "terminated" (body cut mid-way). */
  return error instanceof TypeError && /fetch failed|terminated/i.test(error.message)
}
