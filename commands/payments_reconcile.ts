import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * `node ace payments:reconcile`: asks the gateway about every pending order
 * and settles it; orders still pending after the expiry age expire. The
 * worker runs the same pass periodically.
 */
export default class PaymentsReconcileCommand extends BaseCommand {
  static commandName = 'payments:reconcile'
  static description = 'Resolve pending top-up orders with the payment gateway; expire old ones'
  static options: CommandOptions = { startApp: true }

  @flags.number({
    description:
      'Expire orders pending for longer than this many minutes (default PAYMENT_PENDING_EXPIRY_MINUTES or 1440)',
  })
  declare expireAfter?: number

  @flags.number({ description: 'At most this many orders in one run', default: 500 })
  declare limit: number

  async run() {
    const { default: billingService, pendingExpiryMinutes } =
      await import('#services/billing_service')
    const expireAfterMinutes = this.expireAfter ?? pendingExpiryMinutes()
    if (!Number.isFinite(expireAfterMinutes) || expireAfterMinutes < 0) {
      this.logger.error('--expire-after must be a number of minutes >= 0')
      this.exitCode = 1
      return
    }
    const summary = await billingService.reconcile({ expireAfterMinutes, limit: this.limit })
    this.logger.info(
      `checked ${summary.checked}: ${summary.paid} paid, ${summary.failed} failed, ` +
        `${summary.expired} expired, ${summary.pending} still pending, ${summary.errors} gateway errors`
    )
    if (summary.errors > 0) this.exitCode = 1
  }
}
