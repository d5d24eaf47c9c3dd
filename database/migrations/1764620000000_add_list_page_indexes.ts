import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * Indexes for the two list pages (docs/benchmarks.md, "Pages"):
 * - /usage counts and pages a user's *applied* ledger rows: with
 *   (user_id, id) SQLite read every row of the user to check its status;
 *   (user_id, status, id) answers the count from the index alone.
 * - the dashboard orders a user's tasks by (created_at, id): the old
 *   (user_id, created_at) index left the id tie-break to a temporary sort.
 */
export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('ledger_entries', (table) => {
      table.index(['user_id', 'status', 'id'], 'ledger_entries_user_id_status_id_index')
    })
    this.schema.alterTable('tasks', (table) => {
      table.index(['user_id', 'created_at', 'id'], 'tasks_user_id_created_at_id_index')
      table.dropIndex(['user_id', 'created_at'])
    })
  }

  async down() {
    this.schema.alterTable('tasks', (table) => {
      table.index(['user_id', 'created_at'])
      table.dropIndex(['user_id', 'created_at', 'id'], 'tasks_user_id_created_at_id_index')
    })
    this.schema.alterTable('ledger_entries', (table) => {
      table.dropIndex(['user_id', 'status', 'id'], 'ledger_entries_user_id_status_id_index')
    })
  }
}
