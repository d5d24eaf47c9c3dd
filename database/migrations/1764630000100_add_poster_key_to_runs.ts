import { BaseSchema } from '@adonisjs/lucid/schema'

/* A still frame of a run's result (JPEG), extracted when the output is stored. */
export default class extends BaseSchema {
  protected tableName = 'runs'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.string('poster_key', 255).nullable()
    })
  }

  async down() {
    /* SQLite's own DROP COLUMN: knex would rebuild the table. */
    this.schema.raw('ALTER TABLE runs DROP COLUMN poster_key')
  }
}
