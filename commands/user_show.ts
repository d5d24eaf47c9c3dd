import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** `node ace user:show <id|email>`: status, balance and the last ledger rows. */
export default class UserShowCommand extends BaseCommand {
  static commandName = 'user:show'
  static description = "Show a user's status, balance and last ledger rows"
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'User id or email' })
  declare user: string

  @flags.number({ description: 'How many ledger rows to show', default: 10 })
  declare rows: number

  async run() {
    const { default: adminService } = await import('#services/admin_service')
    const { operatorMessage } = await import('#exceptions/domain_exception')
    try {
      const user = await adminService.findUserByIdOrEmail(this.user)
      const rows = Number.isInteger(this.rows) && this.rows > 0 ? Math.min(this.rows, 500) : 10
      const { entries, orderCount } = await adminService.describe(user, rows)
      this.logger.log(`id:       ${user.id}`)
      this.logger.log(`email:    ${user.email}`)
      this.logger.log(`status:   ${user.status}`)
      this.logger.log(`balance:  ${user.balance}`)
      this.logger.log(`created:  ${user.createdAt.toISO()}`)
      this.logger.log(`orders:   ${orderCount}`)
      if (entries.length === 0) {
        this.logger.log('ledger:   no rows yet')
        return
      }
      const table = this.ui.table()
      table.head(['#', 'time (UTC)', 'action', 'status', 'diff', 'old', 'new', 'reference'])
      for (const entry of entries) {
        table.row([
          String(entry.id),
          entry.createdAt.toUTC().toFormat('yyyy-LL-dd HH:mm:ss'),
          entry.action,
          entry.status,
          String(entry.diff),
          String(entry.oldBalance),
          String(entry.newBalance),
          entry.reference,
        ])
      }
      table.render()
    } catch (error) {
      const message = operatorMessage(error)
      if (message === null) throw error
      this.logger.error(message)
      this.exitCode = 1
    }
  }
}
