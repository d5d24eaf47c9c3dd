import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Analytics events for BigQuery, written in the same transaction as the
 * change they describe and shipped later by the worker.
 */
export default class extends BaseSchema {
  protected tableName = 'outbox_events'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('table_name', 64).notNullable()
      table.string('insert_id', 64).notNullable().unique()
      table.text('payload').notNullable()
      table.string('status', 16).notNullable().defaultTo('pending')
      table.integer('attempts').notNullable().defaultTo(0)
      table.timestamp('next_attempt_at').notNullable()
      table.text('last_error').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('sent_at').nullable()
      table.index(['status', 'next_attempt_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
