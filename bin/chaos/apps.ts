import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/*
 * The app under chaos: the production build's web process (bin/server.js)
 * and its worker (`node ace worker`), each a child process that can be
 * killed with SIGKILL and started again, plus one-off Ace commands. Their
 * output goes to log files, one per process start.
 */

export type Role = 'web' | 'worker'

type Running = { child: ChildProcess; exited: Promise<void> }

export class AppProcesses {
  private running = new Map<Role, Running>()
  private starts: Record<Role, number> = { web: 0, worker: 0 }
  /** Unexpected exits (not one of our kills): each one is a crash to report. */
  readonly crashes: { role: Role; code: number | null; signal: string | null; log: string }[] = []

  constructor(
    private buildDir: string,
    private env: NodeJS.ProcessEnv,
    private logDir: string,
    readonly baseUrl: string
  ) {}

  /** Runs `node ace <args>` in the build and resolves with its exit code and output. */
  ace(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['ace.js', ...args], {
        cwd: this.buildDir,
        env: { ...this.env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk) => (output += chunk))
      child.stderr.on('data', (chunk) => (output += chunk))
      child.once('error', reject)
      child.once('exit', (code) => resolve({ code, output }))
    })
  }

  /** Process id of what runs in `role` now, or null. */
  pid(role: Role) {
    return this.running.get(role)?.child.pid ?? null
  }

  async start(role: Role) {
    if (this.running.has(role)) return
    this.starts[role] += 1
    const logPath = join(this.logDir, `${role}-${this.starts[role]}.log`)
    const log = createWriteStream(logPath)
    const args = role === 'web' ? ['bin/server.js'] : ['ace.js', 'worker']
    const child = spawn(process.execPath, args, {
      cwd: this.buildDir,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    const entry: Running = {
      child,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    }
    child.once('exit', (code, signal) => {
      log.end()
      /* Ours to restart only if it is still the registered process (not killed by us). */
      if (this.running.get(role) === entry) {
        this.running.delete(role)
        this.crashes.push({ role, code, signal, log: logPath })
      }
    })
    this.running.set(role, entry)
    if (role === 'web') await this.waitForHealth(entry)
  }

  private async waitForHealth(entry: Running) {
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      if (entry.child.exitCode !== null || entry.child.signalCode !== null) break
      try {
        const response = await fetch(`${this.baseUrl}/health`, {
          signal: AbortSignal.timeout(2000),
        })
        await response.body?.cancel()
        if (response.ok) return
      } catch {}
      await sleep(100)
    }
    throw new Error('the web process did not answer /health within 60 s')
  }

  /** SIGKILL, no warning: whatever the process was doing stops mid-way. */
  async kill(role: Role) {
    const entry = this.running.get(role)
    if (!entry) return false
    this.running.delete(role)
    entry.child.kill('SIGKILL')
    await entry.exited
    return true
  }

  /** Graceful stop (SIGTERM): the worker finishes its step and releases its lease. */
  async stop(role: Role) {
    const entry = this.running.get(role)
    if (!entry) return
    this.running.delete(role)
    entry.child.kill('SIGTERM')
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 40_000)
    await entry.exited
    clearTimeout(timer)
  }

  /** Synchronous SIGKILL of everything still running (for process exit). */
  killNow() {
    for (const entry of this.running.values()) entry.child.kill('SIGKILL')
    this.running.clear()
  }

  async stopAll() {
    await Promise.all([this.stop('web'), this.stop('worker')])
  }
}
