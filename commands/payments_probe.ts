import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * `node ace payments:probe`: before launch, with a TEST token, see apay's
 * real answers to init-payment and payment-verify (secrets masked) and
 * what the adapter reads from them. See docs/payments.md.
 */
export default class PaymentsProbeCommand extends BaseCommand {
  static commandName = 'payments:probe'
  static description =
    "Call apay's init-payment and payment-verify once and print the real answers (secrets masked)"
  static options: CommandOptions = { startApp: true, allowUnknownFlags: false }

  @flags.string({
    description: 'Pack from config/prices.ts to create the payment for',
    default: 'small',
  })
  declare pack: string

  @flags.string({ description: 'customerEmail sent to apay', default: 'probe@example.com' })
  declare email: string

  @flags.string({ description: 'customerIp sent to apay', default: '127.0.0.1' })
  declare customerIp: string

  @flags.string({
    description: 'postbackUrl sent to apay (default APP_URL/webhooks/payments/apay)',
  })
  declare postbackUrl?: string

  @flags.string({ description: 'Only verify this existing payment (no new payment is created)' })
  declare paymentId?: string

  @flags.boolean({ description: 'Also read the Konnektive product list (payway with a catalogue)' })
  declare products?: boolean

  @flags.boolean({ description: 'Allow APAY_ENVIRONMENT=prod (creates a real payment request)' })
  declare allowProd?: boolean

  async run() {
    const { appUrl } = await import('#config/app')
    const { apayFromEnv, GatewayNotConfiguredError } =
      await import('#integrations/payments/gateways')
    const { ApayProbe } = await import('#integrations/payments/apay_probe')
    let gateway
    try {
      gateway = apayFromEnv()
    } catch (error) {
      if (!(error instanceof GatewayNotConfiguredError)) throw error
      this.logger.error(`${error.message}: set them (a test token) and run again`)
      this.exitCode = 1
      return
    }
    if (gateway.environment === 'prod' && !this.allowProd) {
      this.logger.error(
        'APAY_ENVIRONMENT is prod. Probe with a test token: APAY_ENVIRONMENT=test APAY_TOKEN=<test token> ' +
          'node ace payments:probe (or pass --allow-prod)'
      )
      this.exitCode = 1
      return
    }
    const probe = new ApayProbe(gateway, (line) => this.logger.log(line))
    this.exitCode = await probe.run({
      appUrl,
      pack: this.pack,
      email: this.email,
      customerIp: this.customerIp,
      postbackUrl: this.postbackUrl,
      paymentId: this.paymentId,
      products: this.products,
    })
  }
}
