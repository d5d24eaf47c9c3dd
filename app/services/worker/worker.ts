import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import logger from '@adonisjs/core/services/logger'
import { WorkerLease } from '#services/worker/lease'
import { isReplica } from '#services/worker/node_role'
import type { WorkerJob } from '#services/worker/types'

/**
 * Runs the registered jobs in a loop while holding the worker lease.
 * `stop()` lets the current tick finish (or abandon its step through the
 * abort signal) and releases the lease, so another process can resume.
 */
export class Worker {
  /** The worker running in this process, if any (read by the readiness check). */
  static current?: Worker

  private controller = new AbortController()
  private loops: Promise<void>[] = []
  private lease: WorkerLease
  private holding = false
  private leaseTimer?: NodeJS.Timeout

  constructor(
    private jobs: WorkerJob[],
    holder = `${hostname()}:${process.pid}`
  ) {
    this.lease = new WorkerLease(holder)
  }

  get running() {
    return this.loops.length > 0 && !this.controller.signal.aborted
  }

  async start() {
    Worker.current = this
    await this.renewLease()
    this.leaseTimer = setInterval(() => void this.renewLease(), this.lease.ttlMs / 3)
    this.loops = this.jobs.map((job) => this.loop(job))
    logger.info({ jobs: this.jobs.map((job) => job.name) }, 'worker started')
  }

  private async renewLease() {
    if (isReplica()) {
      /* A LiteFS replica cannot write; it idles until it becomes the primary. */
      if (this.holding) logger.info('worker paused: this node is a read-only replica')
      this.holding = false
      return
    }
    try {
      this.holding = await this.lease.acquire()
    } catch (error) {
      this.holding = false
      logger.error({ err: error }, 'worker lease renewal failed')
    }
  }

  private async loop(job: WorkerJob) {
    const signal = this.controller.signal
    while (!signal.aborted) {
      let didWork = false
      if (this.holding && !isReplica()) {
        try {
          const result = await job.tick(signal)
          didWork = result?.didWork ?? false
        } catch (error) {
          logger.error({ err: error, job: job.name }, 'worker job tick failed')
        }
      }
      if (!didWork) await sleep(job.everyMs, undefined, { signal }).catch(() => {})
    }
  }

  /** Graceful stop: no new ticks, wait for the current ones, release the lease. */
  async stop() {
    this.controller.abort()
    clearInterval(this.leaseTimer)
    await Promise.allSettled(this.loops)
    await Promise.allSettled(this.jobs.map((job) => job.stop?.()))
    this.loops = []
    if (Worker.current === this) Worker.current = undefined
    if (this.holding) await this.lease.release().catch(() => {})
    logger.info('worker stopped')
  }
}
