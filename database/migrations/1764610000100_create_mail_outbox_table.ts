import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Every mail the app sends: written by the request (or in the caller's
 * transaction), delivered by the worker. `dedupe_key` is unique, so "send
 * this once" holds across retries, double submits and restarts.
 */
export default class extends BaseSchema {
  protected tableName = 'mail_outbox'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.increments('id')
      table.string('dedupe_key', 191).notNullable().unique()
      table.string('kind', 64).notNullable()
      table.string('to_address', 254).notNullable()
      table.string('user_id', 36).nullable().references('users.id').onDelete('SET NULL')
      table.text('payload').notNullable()
      /* pending → sent | skipped (nothing to send, e.g. unknown email) | dead (gave up) */
      table.string('status', 16).notNullable().defaultTo('pending')
      table.integer('attempts').notNullable().defaultTo(0)
      table.timestamp('next_attempt_at').notNullable()
      table.text('last_error').nullable()
      table.string('message_id', 191).nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('sent_at').nullable()
      table.index(['status', 'next_attempt_at'])
      table.index(['to_address', 'created_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
