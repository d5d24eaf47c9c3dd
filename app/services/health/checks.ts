import { randomUUID } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import { BaseCheck, Result } from '@adonisjs/core/health'
import db from '@adonisjs/lucid/services/db'
import drive from '@adonisjs/drive/services/main'
import logger from '@adonisjs/core/services/logger'
import { WorkerLease } from '#services/worker/lease'

/*
 * Readiness checks. Each one only reads the database (GET never writes;
 * replicas behind LiteFS are read-only) and reports a short message with
 * no error details: the endpoint is public, the details go to the log.
 */

export class DatabaseCheck extends BaseCheck {
  name = 'database'

  async run() {
    try {
      await db.rawQuery('SELECT 1')
      return Result.ok('Database answers')
    } catch (error) {
      logger.warn({ err: error }, 'readiness: database check failed')
      return Result.failed('Database does not answer')
    }
  }
}

/** Writes and deletes a small file on the configured disk (local folder or bucket). */
export class StorageCheck extends BaseCheck {
  name = 'storage'

  async run() {
    const key = `.health/${randomUUID()}.txt`
    try {
      const disk = drive.use()
      await disk.put(key, 'ok')
      await disk.delete(key)
      return Result.ok('Storage is writable')
    } catch (error) {
      logger.warn({ err: error }, 'readiness: storage check failed')
      return Result.failed('Storage is not writable')
    }
  }
}

/** Every migration file shipped with this build has been applied. */
export class MigrationsCheck extends BaseCheck {
  name = 'migrations'
  private expected?: string[]

  private async shippedMigrations() {
    if (!this.expected) {
      const folder = 'database/migrations'
      const files = await readdir(app.makePath(folder))
      this.expected = files
        .filter((file) => /\.(js|ts)$/.test(file) && !file.endsWith('.d.ts'))
        .map((file) => `${folder}/${file.replace(/\.(js|ts)$/, '')}`)
    }
    return this.expected
  }

  async run() {
    try {
      const expected = await this.shippedMigrations()
      const rows: { name: string }[] = await db.from('adonis_schema').select('name')
      const applied = new Set(rows.map((row) => row.name))
      const pending = expected.filter((name) => !applied.has(name)).length
      if (pending > 0) {
        return Result.failed(`${pending} migration(s) not applied`).setMetaData({ pending })
      }
      return Result.ok('All migrations applied')
    } catch (error) {
      logger.warn({ err: error }, 'readiness: migrations check failed')
      return Result.failed('Migration state unknown')
    }
  }
}

/**
 * The worker renews its lease (and heartbeat) every few seconds. When the
 * worker is required for this instance to be ready, a stale heartbeat fails
 * the check; otherwise it is a warning (reported, still 200).
 */
export class WorkerHeartbeatCheck extends BaseCheck {
  name = 'worker'

  constructor(
    private required: () => boolean,
    private staleAfterSeconds = 60
  ) {
    super()
  }

  async run() {
    const fail = (message: string) =>
      this.required() ? Result.failed(message) : Result.warning(message)
    try {
      const heartbeat = await WorkerLease.lastHeartbeat()
      if (!heartbeat) return fail('No worker has started yet')
      const age = Math.max(0, Math.floor(DateTime.utc().diff(heartbeat).as('seconds')))
      if (age > this.staleAfterSeconds) {
        return fail(`Worker heartbeat is ${age} s old`).setMetaData({ heartbeatAgeSeconds: age })
      }
      return Result.ok('Worker heartbeat is fresh').setMetaData({ heartbeatAgeSeconds: age })
    } catch (error) {
      logger.warn({ err: error }, 'readiness: worker check failed')
      return fail('Worker heartbeat unknown')
    }
  }
}
