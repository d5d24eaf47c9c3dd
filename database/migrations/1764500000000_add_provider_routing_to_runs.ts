import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Hosted generation providers. `provider_error` keeps the provider's raw
 * error text for support (the customer sees `error_message`, our words).
 * `webhook_at` is when a verified webhook last said the job changed: one
 * that arrives before the submit's answer is remembered there, so the run
 * is checked at once when its job id is stored. `provider_outages` holds,
 * per provider, since when its submits have been failing (failover).
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('runs', (table) => {
      table.text('provider_error').nullable()
      table.timestamp('webhook_at').nullable()
    })
    this.schema.createTable('provider_outages', (table) => {
      table.string('provider', 16).primary()
      table.timestamp('failing_since').notNullable()
      table.string('last_error', 255).nullable()
      table.timestamp('updated_at').notNullable()
    })
  }

  async down() {
    this.schema.dropTable('provider_outages')
    this.schema.alterTable('runs', (table) => {
      table.dropColumn('webhook_at')
      table.dropColumn('provider_error')
    })
  }
}
