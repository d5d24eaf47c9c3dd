import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { sqlTime } from '#helpers/sql_time'

/**
 * A lease row in the database makes sure only one worker process runs the
 * jobs at a time; another process takes over once the lease expires.
 */
export class WorkerLease {
  constructor(
    public holder: string,
    public name = 'main',
    public ttlMs = 30_000
  ) {}

  /** Takes or renews the lease; true when this process holds it. */
  async acquire() {
    const now = DateTime.utc()
    const expires = now.plus({ milliseconds: this.ttlMs })
    await db.rawQuery(
      `INSERT INTO worker_leases (name, holder, expires_at, heartbeat_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
         heartbeat_at = excluded.heartbeat_at
       WHERE worker_leases.holder = excluded.holder OR worker_leases.expires_at < ?`,
      [this.name, this.holder, sqlTime(expires), sqlTime(now), sqlTime(now)]
    )
    const row = await db.from('worker_leases').where('name', this.name).first()
    return row?.holder === this.holder
  }

  async release() {
    await db.from('worker_leases').where({ name: this.name, holder: this.holder }).delete()
  }

  /** Last heartbeat of whoever holds the lease (for /health/ready). */
  static async lastHeartbeat(name = 'main') {
    const row = await db.from('worker_leases').where('name', name).first()
    return row ? DateTime.fromSQL(row.heartbeat_at, { zone: 'utc' }) : null
  }
}
