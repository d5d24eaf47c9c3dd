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
    const {
      default: adminService,
      parseStatus,
      AdminInputError,
      AdminUnknownUserError,
    } = await import('#services/admin_service')
    try {
      const status = parseStatus(this.status)
      const user = await adminService.findUser(this.user, { allowEmail: true })
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
      if (error instanceof AdminInputError || error instanceof AdminUnknownUserError) {
        this.logger.error(error.message)
        this.exitCode = 1
        return
      }
      throw error
    }
  }
}
