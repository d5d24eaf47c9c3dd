/**
 * True when SQLite refused a write because of a UNIQUE index (a concurrent
 * writer got there first). `on` narrows it to one index, e.g. `runs.task_id`.
 */
export function isUniqueViolation(error: unknown, on?: string) {
  if (!(error instanceof Error) || !/UNIQUE constraint failed/i.test(error.message)) return false
  return on === undefined || error.message.includes(`UNIQUE constraint failed: ${on}`)
}
