import Database from 'better-sqlite3'

/**
 * Copies a live SQLite database with the online backup API. All pages are
 * copied in one step: SQLite restarts a stepwise backup whenever another
 * connection writes, which under steady load could never finish. One step
 * is one read transaction; in WAL mode writers go on meanwhile and the copy
 * is the database as of that transaction's start.
 */
export async function backupDatabase(source: string, destination: string) {
  const started = performance.now()
  const live = new Database(source, { fileMustExist: true })
  let pages = 0
  try {
    live.pragma('busy_timeout = 5000')
    const result = await live.backup(destination, { progress: () => 0x7fffffff })
    pages = result.totalPages
  } finally {
    live.close()
  }

  const copy = new Database(destination)
  try {
    /* A standalone file: no -wal/-shm companions needed to read it. */
    copy.pragma('journal_mode = DELETE')
    const check = copy.pragma('integrity_check', { simple: true })
    if (check !== 'ok') throw new Error(`integrity check of the copy failed: ${check}`)
  } finally {
    copy.close()
  }
  return { pages, ms: Math.round(performance.now() - started) }
}
