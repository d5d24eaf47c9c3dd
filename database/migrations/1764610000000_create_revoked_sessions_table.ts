import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Sessions live in the encrypted cookie, so a logout alone cannot make a
 * copy of that cookie stop working. Logging out records the session's id
 * here; every request checks it. Rows are kept until no copy of the session
 * could still be within its idle limit (expires_at), then pruned.
 */
export default class extends BaseSchema {
  protected tableName = 'revoked_sessions'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('sid', 64).primary()
      table.string('user_id', 36).notNullable().references('users.id').onDelete('CASCADE')
      table.timestamp('revoked_at').notNullable()
      table.timestamp('expires_at').notNullable().index()
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
