import { BaseSchema } from '@adonisjs/lucid/schema'

export default class extends BaseSchema {
  protected tableName = 'users'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 36).primary()
      table.string('email', 254).notNullable().unique()
      table.string('password').notNullable()
      table.string('status', 16).notNullable().defaultTo('new')
      table.integer('balance').notNullable().defaultTo(0)
      /* Bumped to end every session of the user (password change, blocking). */
      table.integer('session_version').notNullable().defaultTo(1)
      table.timestamp('activated_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
    })
    this.schema.raw(
      `CREATE TRIGGER users_balance_non_negative BEFORE UPDATE OF balance ON users
       WHEN NEW.balance < 0 BEGIN SELECT RAISE(ABORT, 'balance below zero'); END`
    )
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
