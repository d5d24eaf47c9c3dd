import { BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Runs the background worker (generation runs, analytics shipping, payment
 * reconciliation) until SIGTERM/SIGINT, then stops gracefully.
 */
export default class WorkerCommand extends BaseCommand {
  static commandName = 'worker'
  static description = 'Run the background worker (runs, analytics, payments) until stopped'
  static options: CommandOptions = { startApp: true, staysAlive: true }

  async run() {
    const { Worker } = await import('#services/worker/worker')
    const { workerJobs } = await import('#services/worker/jobs')
    const worker = new Worker(await workerJobs())
    await worker.start()
    this.logger.info('worker running; press Ctrl+C to stop')

    const shutdown = async () => {
      await worker.stop()
      await this.terminate()
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  }
}
