import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Every balance change and every refused attempt. The applied rows' diffs
 * always sum to users.balance. An applied row's reference is unique, so a
 * replayed credit or debit applies once.
 */
export default class extends BaseSchema {
  protected tableName = 'ledger_entries'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table
        .string('user_id', 36)
        .notNullable()
        .references('id')
        .inTable('users')
        .onDelete('RESTRICT')
      table.string('action', 16).notNullable()
      table.string('status', 16).notNullable()
      table.integer('diff').notNullable()
      table.integer('old_balance').notNullable()
      table.integer('new_balance').notNullable()
      table.string('reference', 191).notNullable()
      table.string('description', 255).notNullable().defaultTo('')
      table.timestamp('created_at').notNullable()
      table.index(['user_id', 'id'])
      table.index(['reference'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX ledger_entries_applied_reference_unique
       ON ledger_entries (reference) WHERE status = 'applied'`
    )
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
