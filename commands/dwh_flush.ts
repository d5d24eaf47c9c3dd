import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Ships every pending analytics row now, ignoring backoff (each row is tried
 * once per run). `--retry-dead` first puts dead-lettered rows back in line.
 */
export default class DwhFlush extends BaseCommand {
  static commandName = 'dwh:flush'
  static description =
    'Ship the pending analytics outbox to BigQuery now (--retry-dead replays dead rows)'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Also replay rows that were dead-lettered' })
  declare retryDead: boolean

  async run() {
    const { default: dwhConfig } = await import('#config/dwh')
    const { OutboxShipper, outboxStats } = await import('#services/dwh/shipper')

    if (!dwhConfig.bigquery) {
      const stats = await outboxStats()
      this.logger.warning(
        `BigQuery is not configured (BIGQUERY_PROJECT_ID): ${stats.pending} rows stay pending in the outbox`
      )
      if (dwhConfig.mirror.enabled) {
        const { NdjsonMirror } = await import('#services/dwh/ndjson_mirror')
        const mirror = new NdjsonMirror(dwhConfig.mirror.root)
        let copied = 0
        for (
          let batch = await mirror.mirrorBatch();
          batch > 0;
          batch = await mirror.mirrorBatch()
        ) {
          copied += batch
        }
        this.logger.info(`${copied} new rows mirrored to ${dwhConfig.mirror.root}`)
      }
      return
    }

    const { BigQuerySink } = await import('#integrations/bigquery/sink')
    const shipper = new OutboxShipper(new BigQuerySink(dwhConfig.bigquery))
    const started = performance.now()
    const result = await shipper.flush({ retryDead: this.retryDead })
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    if (this.retryDead) this.logger.info(`${result.revived} dead rows put back in line`)
    this.logger.info(
      `${result.sent} rows sent, ${result.retrying} to retry later, ${result.dead} dead-lettered (${seconds} s)`
    )
    const stats = await outboxStats()
    this.logger.info(`outbox now: ${stats.pending} pending, ${stats.dead} dead`)
    if (result.retrying || result.dead) this.exitCode = 1
  }
}
