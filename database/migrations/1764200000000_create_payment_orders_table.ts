import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Top-up orders. Each keeps a snapshot of the pack it was created from, so
 * a price change never re-prices an order. `status` moves from `pending`
 * exactly once (conditional update), and the credit it causes carries the
 * reference `topup:order:<id>`.
 */
export default class extends BaseSchema {
  protected tableName = 'payment_orders'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 36).primary()
      table
        .string('user_id', 36)
        .notNullable()
        .references('id')
        .inTable('users')
        .onDelete('RESTRICT')
      table.string('pack_name', 32).notNullable()
      table.integer('price_cents').notNullable()
      table.string('currency', 3).notNullable()
      table.integer('tokens').notNullable()
      table.string('gateway', 16).notNullable()
      /* The provider's payment id; one payment can settle one order only. */
      table.string('gateway_payment_id', 191).nullable()
      table.text('checkout_url').nullable()
      table.string('status', 16).notNullable().defaultTo('pending')
      table.string('failure_reason', 64).nullable()
      table.timestamp('last_checked_at').nullable()
      table.timestamp('resolved_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.unique(['gateway', 'gateway_payment_id'])
      table.index(['user_id', 'created_at'])
      table.index(['status', 'created_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
