import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { rm } from 'node:fs/promises'
import db from '@adonisjs/lucid/services/db'
import { setTimeout as sleep } from 'node:timers/promises'
import app from '@adonisjs/core/services/app'
import type { Group } from '@japa/runner/core'
import { databasePath } from '#config/database'
import { TEST_PASSWORD } from '#tests/helpers/users'

/*
 * The real app as a child process (bin/server.ts or an Ace command), for
 * tests that need what only a process has: its stdout (logs), signals
 * (graceful shutdown) and its own database connection.
 */

/** A free TCP port on 127.0.0.1 (children must not take the runner's PORT). */
export function freePort() {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/**
 * A copy of the test database (migrated, in its current state) for a child
 * process, so the child never shares the runner's file.
 */
export async function cloneDatabase(name: string) {
  const target = app.makePath(`tmp/test-ops-${name}.sqlite3`)
  for (const suffix of ['', '-wal', '-shm']) await rm(target + suffix, { force: true })
  await db.rawQuery('VACUUM INTO ?', [target])
  return target
}

export type AppProcessOptions = {
  port: number
  databasePath: string
  /** Extra or overriding environment variables. */
  env?: Record<string, string>
  /** Extra node options for the server process (e.g. `--import` of a test-only module). */
  nodeArgs?: string[]
}

export class AppProcess {
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private buffer = ''

  constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string
  ) {
    const collect = (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8')
      const parts = this.buffer.split('\n')
      this.buffer = parts.pop() ?? ''
      this.lines.push(...parts.filter((line) => line.trim() !== ''))
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.buffer.trim()) this.lines.push(this.buffer)
        resolve({ code, signal })
      })
    )
  }

  url(path: string) {
    return new URL(path, this.baseUrl).href
  }

  /** Log lines that are JSON objects (pino output). */
  jsonLines(): Record<string, any>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line)]
      } catch {
        return []
      }
    })
  }

  /** Sends a signal and waits for the exit (kills it after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }
}

function childEnv(options: AppProcessOptions) {
  return {
    ...process.env,
    NODE_ENV: 'test',
    NO_COLOR: '1',
    /* Vite's dev server serves the assets (no production build needed), as under `node ace serve`. */
    DEV_MODE: 'true',
    HOST: '127.0.0.1',
    PORT: String(options.port),
    APP_URL: `http://127.0.0.1:${options.port}`,
    DATABASE_PATH: options.databasePath,
    LOG_LEVEL: 'info',
    ...options.env,
  }
}

/** Spawns `node ace <args>` with the test environment (`port` only feeds PORT/APP_URL). */
export function spawnAce(args: string[], options: AppProcessOptions) {
  /*
   * No Vite dev server in a command (it serves no pages; any DEV_MODE value
   * starts it): next to a test server it would fight over the HMR port.
   */
  const env: NodeJS.ProcessEnv = childEnv(options)
  if (!options.env?.DEV_MODE) delete env.DEV_MODE
  const child = spawn(process.execPath, ['ace.js', ...args], {
    cwd: app.makePath(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new AppProcess(child, `http://127.0.0.1:${options.port}`)
}

/** Starts bin/server.ts and waits until /health answers. */
export async function startServer(options: AppProcessOptions) {
  const args = ['--import=@poppinss/ts-exec', ...(options.nodeArgs ?? []), 'bin/server.ts']
  const child = spawn(process.execPath, args, {
    cwd: app.makePath(),
    env: childEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const server = new AppProcess(child, `http://127.0.0.1:${options.port}`)
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break
    try {
      const response = await fetch(server.url('/health'))
      if (response.ok) return server
    } catch {}
    await sleep(100)
  }
  await server.stop('SIGKILL')
  throw new Error(`server did not start:\n${server.lines.slice(-20).join('\n')}`)
}

/** A minimal cookie jar + CSRF-aware form poster, like a browser. */
export class WebClient {
  private cookies = new Map<string, string>()

  constructor(private server: AppProcess) {}

  /** Another client holding a copy of this one's cookies (a stolen or copied session). */
  copy() {
    const other = new WebClient(this.server)
    for (const [name, value] of this.cookies) other.cookies.set(name, value)
    return other
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  /** The CSRF token of a page's forms. */
  async csrfToken(path: string) {
    const page = await (await this.get(path)).text()
    const csrf = page.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)?.[1]
    if (!csrf) throw new Error(`no CSRF token on ${path}`)
    return csrf
  }

  async request(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers)
    if (this.cookies.size) headers.set('cookie', this.cookieHeader())
    const response = await fetch(this.server.url(path), { ...init, headers, redirect: 'manual' })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const index = pair.indexOf('=')
      const name = pair.slice(0, index)
      const value = pair.slice(index + 1)
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(cookie) || value === '')
        this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  get(path: string) {
    return this.request(path)
  }

  /** GETs the page with the form, then posts the fields with its CSRF token. */
  async submit(formPath: string, action: string, fields: Record<string, string>) {
    const csrf = await this.csrfToken(formPath)
    return this.request(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, _csrf: csrf }).toString(),
    })
  }
}

/** A client signed in as `email` through the login form (throws unless it lands on /tasks). */
export async function logIn(server: AppProcess, email: string, password = TEST_PASSWORD) {
  const web = new WebClient(server)
  const login = await web.submit('/login', '/login', { email, password })
  if (login.headers.get('location') !== '/tasks') throw new Error('login failed')
  return web
}

/**
 * The app as its own process for the tests of `group` (started before
 * them, killed after them); call the returned function for it.
 */
export function serveAppFor(group: Group, env: Record<string, string>) {
  let server: AppProcess | null = null
  group.setup(async () => {
    server = await startServer({ port: await freePort(), databasePath, env })
    return () => server!.stop('SIGKILL').then(() => {})
  })
  return () => server!
}
