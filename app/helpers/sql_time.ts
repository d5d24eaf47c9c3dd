import { DateTime } from 'luxon'

/** A timestamp for our own SQLite columns and raw SQL: UTC, `yyyy-LL-dd HH:mm:ss`. */
export function sqlTime(value: DateTime) {
  return value.toUTC().toFormat('yyyy-LL-dd HH:mm:ss')
}

export function sqlNow() {
  return sqlTime(DateTime.utc())
}
