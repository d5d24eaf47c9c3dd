import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Payments of the embedded `dev` gateway (development and test only): the
 * state its local checkout page records and its verify call reads back,
 * just as a real provider keeps its own payments.
 */
export default class extends BaseSchema {
  protected tableName = 'dev_payments'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 36).primary()
      table.string('order_id', 36).notNullable()
      table.integer('amount_cents').notNullable()
      table.string('currency', 3).notNullable()
      table.string('description', 255).notNullable()
      table.string('customer_email', 254).notNullable()
      table.string('status', 16).notNullable().defaultTo('pending')
      table.text('success_url').notNullable()
      table.text('failure_url').notNullable()
      table.text('postback_url').notNullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
