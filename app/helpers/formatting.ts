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

/** A luxon DateTime as `yyyy-LL-dd HH:mm`; anything else as an empty string. */
export function formatDate(value: { toFormat?: (f: string) => string } | null | undefined) {
  return value?.toFormat ? value.toFormat('yyyy-LL-dd HH:mm') : ''
}
