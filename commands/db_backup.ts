import { args, BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { existsSync } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { resolve } from 'node:path'

/**
 * A consistent copy of the SQLite database while the app keeps running
 * (SQLite's online backup API). The copy is written next to the target and
 * renamed into place only after it passes `PRAGMA integrity_check`, so a
 * failed run never leaves a half-written file under the target name.
 */
export default class DbBackup extends BaseCommand {
  static commandName = 'db:backup'
  static description = 'Copy the live SQLite database to <file> (online backup, integrity-checked)'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'Path of the backup file to create' })
  declare file: string

  @flags.boolean({ description: 'Overwrite <file> if it exists' })
  declare force: boolean

  async run() {
    const { backupDatabase } = await import('#services/db_backup')
    const { databasePath } = await import('#config/database')
    const target = resolve(this.file)
    if (existsSync(target) && !this.force) {
      this.logger.error(`${target} exists; pass --force to overwrite it`)
      this.exitCode = 1
      return
    }

    const partial = `${target}.partial`
    try {
      const result = await backupDatabase(databasePath, partial)
      await rename(partial, target)
      const { size } = await stat(target)
      this.logger.success(
        `Backed up ${result.pages} pages (${(size / 1024 / 1024).toFixed(2)} MB) to ${target} in ${result.ms} ms; integrity ok`
      )
    } catch (error) {
      await rm(partial, { force: true })
      this.logger.error(`Backup failed: ${(error as Error).message}`)
      this.exitCode = 1
    }
  }
}
