import { BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Runs the background worker (generation runs, analytics shipping, payment
 * reconciliation) until SIGTERM/SIGINT, then stops gracefully: the current
 * step finishes or is abandoned through the abort signal, the lease is
 * released so the next worker resumes at once. Past SHUTDOWN_TIMEOUT_SECONDS
 * it exits anyway (code 1); the state is in the database either way.
 */
export default class WorkerCommand extends BaseCommand {
  static commandName = 'worker'
  static description = 'Run the background worker (runs, analytics, payments) until stopped'
  static options: CommandOptions = { startApp: true, staysAlive: true }

  async run() {
    const { Worker } = await import('#services/worker/worker')
    const { workerJobs } = await import('#start/jobs')
    const { default: env } = await import('#start/env')
    const { default: logger } = await import('@adonisjs/core/services/logger')
    /* Signed input URLs are made from named routes: commit them as the HTTP server does. */
    const router = await this.app.container.make('router')
    router.commit()
    const worker = new Worker(await workerJobs())
    await worker.start()
    /*
     * bin/console.ts terminates the app on SIGTERM too: its providers (the
     * database first) must close only after the current ticks are done, or
     * a tick's last query reopens the pool and the process never exits.
     */
    this.app.terminating(() => worker.stop())

    let stopping = false
    const shutdown = async () => {
      if (stopping) return
      stopping = true
      const seconds = env.get('SHUTDOWN_TIMEOUT_SECONDS') ?? 25
      setTimeout(() => {
        logger.error(`worker did not stop in ${seconds} s; exiting`)
        process.exit(1)
      }, seconds * 1000).unref()
      await worker.stop()
      await this.terminate()
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  }
}
