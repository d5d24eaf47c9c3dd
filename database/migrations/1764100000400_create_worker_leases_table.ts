import { BaseSchema } from '@adonisjs/lucid/schema'

/* One row per lease: which worker process may run the background jobs now. */
export default class extends BaseSchema {
  protected tableName = 'worker_leases'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('name', 64).primary()
      table.string('holder', 128).notNullable()
      table.timestamp('expires_at').notNullable()
      table.timestamp('heartbeat_at').notNullable()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
