/*
 * Formatting for people: pages, flash messages and upload refusals use the
 * same wording for sizes, durations, token amounts and dates.
 */

export function formatBytes(bytes: number) {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB`
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / 1024 / 1024)} MB`
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`
  return `${bytes} bytes`
}

export function formatSeconds(seconds: number) {
  const total = Math.round(seconds)
  const minutes = Math.floor(total / 60)
  const rest = total % 60
  return minutes ? `${minutes} min ${String(rest).padStart(2, '0')} s` : `${rest} s`
}

/* One formatter for all calls: constructing an Intl.NumberFormat is the expensive part. */
const tokens = new Intl.NumberFormat('en-US')

/** 12345 → "12,345". */
export function formatTokens(value: number) {
  return tokens.format(value)
}

const SQL_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/
type DateParts = { year: number; month: number; day: number; hour: number; minute: number }
const two = (value: number) => String(value).padStart(2, '0')

/**
 * A luxon DateTime as `yyyy-LL-dd HH:mm` (in its own zone), or a timestamp
 * as SQLite returns it in plain rows (`yyyy-LL-dd HH:mm:ss`) cut to that
 * length: a model would parse the text in the local zone and print it in
 * the same zone, i.e. the same text. Anything else: ''. Built from the
 * parts: luxon's toFormat parses the format on every call, and pages format
 * a date per row.
 */
export function formatDate(
  value: string | ({ toFormat?: unknown } & Partial<DateParts>) | null | undefined
) {
  if (typeof value === 'string') return SQL_TIMESTAMP.test(value) ? value.slice(0, 16) : ''
  if (!value?.toFormat) return ''
  const { year, month, day, hour, minute } = value as DateParts
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)} ${two(hour)}:${two(minute)}`
}

/* `toISOString()` output (the dev mailbox stores it). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/**
 * The same moment for `<time datetime>` (components/local_time.edge), in UTC
 * ISO 8601, or null: a luxon DateTime, a timestamp as SQLite returns it in
 * plain rows (our timestamps are stored in UTC, see sql_time.ts), or a UTC
 * ISO string.
 */
export function isoTime(value: string | { toUTC?: unknown } | null | undefined) {
  if (typeof value === 'string') {
    if (ISO_UTC.test(value)) return `${value.slice(0, 19)}Z`
    return SQL_TIMESTAMP.test(value) ? `${value.slice(0, 10)}T${value.slice(11, 19)}Z` : null
  }
  const dateTime = value as { toUTC?: () => { toISO: (options: object) => string | null } }
  if (typeof dateTime?.toUTC !== 'function') return null
  return dateTime.toUTC().toISO({ suppressMilliseconds: true })
}

/** `2026-12-01T09:20:58Z` → `2026-12-01 09:20 UTC`: the text shown without JavaScript. */
export function utcText(iso: string) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
}
