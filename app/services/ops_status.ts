import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { WorkerLease } from '#services/worker/lease'
import { sqlTime } from '#helpers/sql_time'

async function count(query: any) {
  const [row] = await query.count('* as n')
  return Number(row?.n ?? 0)
}

async function oldestAgeMinutes(table: string, where: (query: any) => any) {
  const row = await where(db.from(table)).min('created_at as oldest').first()
  if (!row?.oldest) return null
  const oldest = DateTime.fromSQL(String(row.oldest), { zone: 'utc' })
  return Math.floor(DateTime.utc().diff(oldest).as('minutes'))
}

/**
 * What an operator watches (docs/operations.md, "Monitoring"). Read-only,
 * so it can run on any node, replicas included.
 */
export async function opsStatus() {
  const now = DateTime.utc()
  const heartbeat = await WorkerLease.lastHeartbeat()
  const pendingOutbox = (query: any) => query.where('status', 'pending')
  const pendingOrders = (query: any) => query.where('status', 'pending')
  return {
    worker: {
      heartbeatAgeSeconds: heartbeat ? Math.floor(now.diff(heartbeat).as('seconds')) : null,
    },
    outbox: {
      pending: await count(pendingOutbox(db.from('outbox_events'))),
      dead: await count(db.from('outbox_events').where('status', 'dead')),
      oldestPendingMinutes: await oldestAgeMinutes('outbox_events', pendingOutbox),
    },
    runs: {
      active: await count(db.from('runs').whereIn('status', ['queued', 'running'])),
      /* Active although past their deadline, or not looked at for 10 minutes: the worker is behind or down. */
      stuck: await count(
        db
          .from('runs')
          .whereIn('status', ['queued', 'running'])
          .where((query) =>
            query
              .where('deadline_at', '<', sqlTime(now))
              .orWhere('next_check_at', '<', sqlTime(now.minus({ minutes: 10 })))
          )
      ),
      failedLastHour: await count(
        db
          .from('runs')
          .where('status', 'failed')
          .where('finished_at', '>=', sqlTime(now.minus({ hours: 1 })))
      ),
    },
    orders: {
      pending: await count(pendingOrders(db.from('payment_orders'))),
      pendingOverOneHour: await count(
        pendingOrders(db.from('payment_orders')).where(
          'created_at',
          '<',
          sqlTime(now.minus({ hours: 1 }))
        )
      ),
      oldestPendingMinutes: await oldestAgeMinutes('payment_orders', pendingOrders),
    },
  }
}
