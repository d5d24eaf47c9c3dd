import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Without BigQuery the development NDJSON mirror copies each pending row
 * once; `mirrored_at` remembers which rows it has copied (they stay pending
 * for BigQuery). The partial index keeps "what is left to mirror" cheap.
 */
export default class extends BaseSchema {
  protected tableName = 'outbox_events'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.timestamp('mirrored_at').nullable()
    })
    this.schema.raw(
      `CREATE INDEX outbox_events_unmirrored_index ON outbox_events (id) WHERE mirrored_at IS NULL AND status = 'pending'`
    )
  }

  async down() {
    this.schema.raw('DROP INDEX IF EXISTS outbox_events_unmirrored_index')
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('mirrored_at')
    })
  }
}
