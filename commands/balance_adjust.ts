import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** `node ace balance:adjust <id|email> <diff> [--key=...]`: same rules as PUT /api/internal/balance. */
export default class BalanceAdjustCommand extends BaseCommand {
  static commandName = 'balance:adjust'
  static description =
    "Add (100) or remove (-100) tokens from a user's balance (ledger action: manual)"
  static options: CommandOptions = { startApp: true, allowUnknownFlags: false }

  @args.string({ description: 'User id or email' })
  declare user: string

  /* A string, so "-100" and "0100" reach the validator exactly as typed. */
  @args.string({ description: 'Signed integer, e.g. 500 or -200' })
  declare diff: string

  @flags.string({ description: 'Idempotency key: running the same command again applies once' })
  declare key?: string

  async run() {
    const { default: adminService } = await import('#services/admin_service')
    const { balanceChangeValidator, idempotencyKeyValidator } = await import('#validators/admin')
    const { operatorMessage } = await import('#exceptions/domain_exception')
    try {
      const { diff } = await balanceChangeValidator.validate({ diff: this.diff, userID: this.user })
      const { key } = await idempotencyKeyValidator.validate({ key: this.key || undefined })
      const user = await adminService.findUserByIdOrEmail(this.user)
      const result = await adminService.adjustBalance(user, diff, key ?? null, 'cli')
      const line = `${user.email} (${user.id}): ${result.oldBalance} → ${result.newBalance} (diff ${diff > 0 ? '+' : ''}${diff})`
      if (result.status === 'rejected') {
        this.logger.error(
          `Refused: the balance is ${result.oldBalance}; ${diff} would make it negative. Nothing changed (attempt logged).`
        )
        this.exitCode = 1
      } else if (result.status === 'duplicate') {
        this.logger.info(`Already applied with this key earlier; nothing changed. ${line}`)
      } else {
        this.logger.success(line)
      }
    } catch (error) {
      const message = operatorMessage(error)
      if (message === null) throw error
      this.logger.error(message)
      this.exitCode = 1
    }
  }
}
