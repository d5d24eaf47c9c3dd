import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Notification switches (both on by default) and the time an account was
 * deleted: a deleted account keeps its row (ledger and analytics rows point
 * at its id) but no email or other personal data.
 */
export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.boolean('notify_runs').notNullable().defaultTo(true)
      table.boolean('notify_low_balance').notNullable().defaultTo(true)
      table.timestamp('deleted_at').nullable()
    })
  }

  async down() {
    /* SQLite's own DROP COLUMN: knex would rebuild the table, which other tables reference. */
    for (const column of ['notify_runs', 'notify_low_balance', 'deleted_at']) {
      this.schema.raw(`ALTER TABLE users DROP COLUMN ${column}`)
    }
  }
}
