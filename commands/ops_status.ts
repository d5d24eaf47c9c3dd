import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * The numbers to watch: worker heartbeat, analytics outbox, stuck runs,
 * pending orders. `--json` for a monitoring agent. Exits 1 when something
 * needs a look (see docs/operations.md, "Monitoring").
 */
export default class OpsStatus extends BaseCommand {
  static commandName = 'ops:status'
  static description = 'Show worker heartbeat, outbox backlog, stuck runs and pending orders'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Print JSON' })
  declare json: boolean

  async run() {
    const { opsStatus } = await import('#services/ops_status')
    const status = await opsStatus()
    const problems = [
      status.worker.heartbeatAgeSeconds === null || status.worker.heartbeatAgeSeconds > 60
        ? 'worker heartbeat missing or older than 60 s'
        : null,
      (status.outbox.oldestPendingMinutes ?? 0) > 60
        ? 'analytics rows pending for over an hour'
        : null,
      status.outbox.dead > 0 ? `${status.outbox.dead} dead analytics rows` : null,
      status.runs.stuck > 0 ? `${status.runs.stuck} stuck runs` : null,
      status.orders.pendingOverOneHour > 0
        ? `${status.orders.pendingOverOneHour} orders pending for over an hour`
        : null,
    ].filter((problem): problem is string => problem !== null)

    if (this.json) {
      this.logger.log(JSON.stringify({ ...status, problems }))
    } else {
      const table = this.ui.table()
      table.head(['what', 'value'])
      table.row(['worker heartbeat age (s)', String(status.worker.heartbeatAgeSeconds ?? 'none')])
      table.row(['outbox pending', String(status.outbox.pending)])
      table.row(['outbox oldest pending (min)', String(status.outbox.oldestPendingMinutes ?? '-')])
      table.row(['outbox dead', String(status.outbox.dead)])
      table.row(['runs active', String(status.runs.active)])
      table.row(['runs stuck', String(status.runs.stuck)])
      table.row(['runs failed in the last hour', String(status.runs.failedLastHour)])
      table.row(['orders pending', String(status.orders.pending)])
      table.row(['orders pending > 1 h', String(status.orders.pendingOverOneHour)])
      table.render()
      for (const problem of problems) this.logger.warning(problem)
    }
    if (problems.length) this.exitCode = 1
  }
}
