import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export const databasePath = app.makePath(env.get('DATABASE_PATH') ?? 'tmp/vgen.sqlite3')
mkdirSync(dirname(databasePath), { recursive: true })

const dbConfig = defineConfig({
  connection: 'sqlite',
  prettyPrintDebugQueries: true,
  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: { filename: databasePath },
      useNullAsDefault: true,
      pool: {
        /*
         * WAL lets readers run beside the one writer; the busy timeout makes a
         * second writer wait instead of failing with SQLITE_BUSY.
         */
        afterCreate: (conn: any, done: (error: Error | null, conn: any) => void) => {
          try {
            conn.pragma('journal_mode = WAL')
            conn.pragma('synchronous = NORMAL')
            conn.pragma('foreign_keys = ON')
            conn.pragma('busy_timeout = 5000')
            done(null, conn)
          } catch (error) {
            done(error as Error, conn)
          }
        },
      },
      migrations: {
        naturalSort: true,
        paths: ['database/migrations'],
      },
      schemaGeneration: { enabled: false },
      debug: false,
    },
  },
})

export default dbConfig
