import { BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Creates the BigQuery dataset and the three analytics tables. Safe to run
 * again: existing tables are compared with our definition and any
 * difference is reported (exit code 1), never altered.
 */
export default class DwhSetup extends BaseCommand {
  static commandName = 'dwh:setup'
  static description =
    'Create the BigQuery dataset and tables (idempotent; reports schema differences)'
  static options: CommandOptions = { startApp: true }

  async run() {
    const { default: dwhConfig } = await import('#config/dwh')
    if (!dwhConfig.bigquery) {
      this.logger.error(
        'BigQuery is not configured: set BIGQUERY_PROJECT_ID (see docs/analytics.md)'
      )
      this.exitCode = 1
      return
    }
    const { BigQuerySink } = await import('#integrations/bigquery/sink')
    const sink = new BigQuerySink(dwhConfig.bigquery)
    try {
      const report = await sink.setup()
      const datasetName = `${dwhConfig.bigquery.projectId}.${report.dataset.id}`
      this.logger.info(`dataset ${datasetName}: ${report.dataset.status}`)
      for (const table of report.tables) {
        if (table.status === 'differs') {
          this.logger.warning(`table ${table.table}: schema differs from ours`)
          for (const difference of table.differences) this.logger.warning(`  - ${difference}`)
        } else {
          this.logger.info(`table ${table.table}: ${table.status}`)
        }
      }
      if (report.tables.some((table) => table.status === 'differs')) {
        this.logger.error(
          'Some tables differ: fix them in BigQuery (or recreate them), then run dwh:setup again'
        )
        this.exitCode = 1
      }
    } catch (error) {
      this.logger.error(`BigQuery setup failed: ${(error as Error).message}`)
      this.exitCode = 1
    }
  }
}
