import { BaseCommand, args } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/** `node ace user:status <id|email> <new|activated|blocked>`: same rules as PUT /api/internal/user. */
export default class UserStatusCommand extends BaseCommand {
  static commandName = 'user:status'
  static description =
    "Set a user's status (new | activated | blocked); blocking ends their sessions"
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'User id or email' })
  declare user: string

  @args.string({ description: 'new | activated | blocked' })
  declare status: string

  async run() {
    const { default: adminService } = await import('#services/admin_service')
    const { statusChangeValidator } = await import('#validators/admin')
    const { operatorMessage } = await import('#exceptions/domain_exception')
    try {
      const { status } = await statusChangeValidator.validate({
        status: this.status,
        userID: this.user,
      })
      const user = await adminService.findUserByIdOrEmail(this.user)
      const result = await adminService.setStatus(user, status)
      if (result.oldStatus === result.newStatus) {
        this.logger.info(
          `${result.email} (${result.userId}) is already ${result.newStatus}; nothing changed`
        )
      } else {
        this.logger.success(
          `${result.email} (${result.userId}): ${result.oldStatus} → ${result.newStatus}`
        )
      }
    } catch (error) {
      const message = operatorMessage(error)
      if (message === null) throw error
      this.logger.error(message)
      this.exitCode = 1
    }
  }
}
