import { BaseSchema } from '@adonisjs/lucid/schema'

/*
 * One launch of a task. The worker drives it from the database alone:
 * `submit_attempts` > 0 without a job id means a submission may have reached
 * the provider (look it up before submitting again); `next_check_at` is when
 * the worker looks at it next; `deadline_at` is when it times out. At most
 * one run per task is active (queued or running) at a time.
 */
export default class extends BaseSchema {
  protected tableName = 'runs'

  async up() {
    this.schema.createTable(this.tableName, (table) => {
      table.string('id', 36).primary()
      table
        .string('task_id', 36)
        .notNullable()
        .references('id')
        .inTable('tasks')
        .onDelete('CASCADE')
      table
        .string('user_id', 36)
        .notNullable()
        .references('id')
        .inTable('users')
        .onDelete('CASCADE')
      table.integer('number').notNullable()
      table.string('model', 64).notNullable()
      table.boolean('regeneration').notNullable().defaultTo(false)
      table.integer('cost').notNullable()
      table.string('status', 16).notNullable()
      /* Snapshot of the inputs this run uses: [{kind, storageKey, size, duration, type, name}] */
      table.text('inputs').notNullable()
      table.string('provider', 16).notNullable()
      table.string('provider_job_id', 191).nullable()
      table.string('provider_status', 32).nullable()
      table.integer('submit_attempts').notNullable().defaultTo(0)
      table.integer('check_failures').notNullable().defaultTo(0)
      table.integer('output_attempts').notNullable().defaultTo(0)
      table.timestamp('next_check_at').notNullable()
      table.timestamp('deadline_at').notNullable()
      table.timestamp('submitted_at').nullable()
      table.timestamp('finished_at').nullable()
      table.string('output_key', 255).nullable()
      table.bigInteger('output_size').nullable()
      /* Shown to the user; technical details go to the log. */
      table.string('error_message', 255).nullable()
      table.timestamp('refunded_at').nullable()
      table.timestamp('created_at').notNullable()
      table.timestamp('updated_at').notNullable()
      table.unique(['task_id', 'number'])
      table.index(['status', 'next_check_at'])
      table.index(['user_id'])
    })
    this.schema.raw(
      `CREATE UNIQUE INDEX runs_one_active_per_task ON runs (task_id) WHERE status IN ('queued', 'running')`
    )
  }

  async down() {
    this.schema.dropTable(this.tableName)
  }
}
