import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * The current file for each input slot (video, audio) of a task. The file
 * lives in storage under a generated key; `original_name` is only shown.
 */
export default class extends BaseSchema {
  protected tableName = 'task_inputs'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 36).primary()
      table
        .string('task_id', 36)
        .notNullable()
        .references('id')
        .inTable('tasks')
        .onDelete('CASCADE')
      table.string('kind', 16).notNullable()
      table.string('storage_key', 255).notNullable()
      table.string('original_name', 255).notNullable()
      table.string('mime_type', 64).notNullable()
      table.string('container', 32).notNullable()
      table.bigInteger('size').notNullable()
      table.float('duration').notNullable()
      table.integer('width').nullable()
      table.integer('height').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.unique(['task_id', 'kind'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
