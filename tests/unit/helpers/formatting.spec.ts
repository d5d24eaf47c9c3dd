import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import { formatBytes, formatDate, formatSeconds, formatTokens } from '#helpers/formatting'

test.group('Formatting helpers', () => {
  test('formatDate writes what luxon writes for yyyy-LL-dd HH:mm, in the date zone', ({
    assert,
  }) => {
    const samples = [
      DateTime.fromISO('2026-01-02T03:04:59Z', { zone: 'utc' }),
      DateTime.fromISO('2026-12-31T23:59:00Z').setZone('America/New_York'),
      DateTime.fromISO('0999-07-08T10:11:00', { zone: 'Asia/Kolkata' }),
      DateTime.now(),
    ]
    for (const date of samples) assert.equal(formatDate(date), date.toFormat('yyyy-LL-dd HH:mm'))
    /* Plain rows carry SQLite's text: the same as the model's DateTime would print. */
    for (const text of ['2026-01-02 03:04:59', '2026-12-31 23:59:00']) {
      assert.equal(formatDate(text), DateTime.fromSQL(text).toFormat('yyyy-LL-dd HH:mm'))
    }
    assert.equal(formatDate('not a date'), '')
    assert.equal(formatDate(null), '')
    assert.equal(formatDate(undefined), '')
  })

  test('sizes, durations and token amounts', ({ assert }) => {
    assert.equal(formatBytes(512), '512 bytes')
    assert.equal(formatBytes(200 * 1024 * 1024), '200 MB')
    assert.equal(formatSeconds(75), '1 min 15 s')
    assert.equal(formatSeconds(9.4), '9 s')
    assert.equal(formatTokens(1234567), '1,234,567')
  })
})
