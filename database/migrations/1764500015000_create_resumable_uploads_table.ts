import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * A resumable (tus) upload in progress: who created it, for which task
 * slot, and its declared length. The bytes live in the tus store (a folder
 * of the fs disk, or a multipart upload in the bucket). The row goes when
 * the upload completes (accepted or refused), is terminated, or is swept by
 * the worker 24 h after creation.
 */
export default class extends BaseSchema {
  protected tableName = 'resumable_uploads'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 64).primary()
      table
        .string('user_id', 36)
        .notNullable()
        .references('id')
        .inTable('users')
        .onDelete('CASCADE')
      table.string('task_id', 36).notNullable()
      table.string('kind', 16).notNullable()
      table.string('file_name', 255).notNullable()
      table.bigInteger('length').notNullable()
      table.timestamp('created_at').notNullable()
      table.index(['created_at'])
    })
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
