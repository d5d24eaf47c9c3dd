import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * `node ace gtm:export [--measurement-id G-XXXXXXX]`: prints the GTM web
 * container (GA4 Google tag with user_id, cross-domain linker and consent
 * checks) as a GTM export file, for GTM's "Import container". See docs/gtm.md.
 */
export default class GtmExportCommand extends BaseCommand {
  static commandName = 'gtm:export'
  static description = 'Print the GTM container (GA4 + user id + consent) as a GTM import file'
  static options: CommandOptions = { startApp: false }

  @flags.string({ description: 'GA4 measurement id (default: GA_MEASUREMENT_ID)' })
  declare measurementId?: string

  async run() {
    const { default: env } = await import('#start/env')
    const { buildGtmContainer, containerProblems } =
      await import('#services/analytics/gtm_container')
    const measurementId = this.measurementId ?? env.get('GA_MEASUREMENT_ID')
    if (!measurementId) {
      this.logger.error('Pass --measurement-id G-XXXXXXX or set GA_MEASUREMENT_ID')
      this.exitCode = 1
      return
    }
    let exported
    try {
      exported = buildGtmContainer({
        measurementId,
        appUrl: env.get('APP_URL'),
        landingUrl: env.get('LANDING_URL'),
        publicId: env.get('GTM_ID') || undefined,
      })
    } catch (error) {
      this.logger.error((error as Error).message)
      this.exitCode = 1
      return
    }
    const problems = containerProblems(exported)
    if (problems.length) {
      this.logger.error(`The container is not importable:\n  - ${problems.join('\n  - ')}`)
      this.exitCode = 1
      return
    }
    process.stdout.write(JSON.stringify(exported, null, 2) + '\n')
  }
}
