import { test } from '@japa/runner'
import ace from '@adonisjs/core/services/ace'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import OpsStatus from '../../../commands/ops_status.js'
import billingService from '#services/billing_service'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { seededTask } from '#tests/functional/tasks/helpers'

const sql = (value: DateTime) => value.toUTC().toFormat('yyyy-LL-dd HH:mm:ss')

test.group('ops:status', (group) => {
  freshState(group)
  group.each.setup(() => {
    ace.ui.switchMode('raw')
    return () => ace.ui.switchMode('normal')
  })

  test('reports a stuck run, an old pending order and a missing worker, and exits 1', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 1_000 })
    const task = await seededTask(user, 'lipsync')
    const run = await taskService.launch(user.id, task.id)
    await db
      .from('runs')
      .where('id', run.id)
      .update({ deadline_at: sql(DateTime.utc().minus({ minutes: 1 })) })
    const { order } = await billingService.createOrder(user, 'small', { ip: '127.0.0.1' })
    await db
      .from('payment_orders')
      .where('id', order.id)
      .update({ created_at: sql(DateTime.utc().minus({ hours: 2 })) })

    const command = await ace.create(OpsStatus, ['--json'])
    await command.exec()
    command.assertExitCode(1)
    const report = JSON.parse(command.logger.getLogs().at(-1)!.message)
    assert.equal(report.runs.stuck, 1)
    assert.equal(report.orders.pendingOverOneHour, 1)
    assert.isAtLeast(report.orders.oldestPendingMinutes, 119)
    assert.isAtLeast(report.outbox.pending, 1)
    assert.includeMembers(report.problems, [
      'worker heartbeat missing or older than 60 s',
      '1 stuck runs',
      '1 orders pending for over an hour',
    ])
  })

  test('all quiet: exits 0', async () => {
    const now = sql(DateTime.utc())
    await db
      .table('worker_leases')
      .insert({ name: 'main', holder: 'h:1', expires_at: now, heartbeat_at: now })
    const command = await ace.create(OpsStatus, [])
    await command.exec()
    command.assertSucceeded()
  })
})
