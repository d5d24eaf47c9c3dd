import { test } from '@japa/runner'
import { decimalToCents, normalizePaymentId } from '#integrations/payments/gateway'
import {
  AdminInputError,
  parseDiff,
  parseIdempotencyKey,
  parseStatus,
} from '#services/admin_service'
import { findPack, prices } from '#config/prices'

test.group('Payments and admin input parsing', () => {
  test('decimal amounts become exact cents; anything else is null', ({ assert }) => {
    const cases: [unknown, number | null][] = [
      [10, 1000],
      ['10', 1000],
      ['10.00', 1000],
      ['10.5', 1050],
      [9.99, 999],
      ['0.01', 1],
      ['25.000', 2500],
      ['10.005', null],
      ['-10', null],
      ['1e3', null],
      ['10,00', null],
      [' 10.00 ', 1000],
      ['', null],
      [null, null],
      [Number.NaN, null],
      [{}, null],
    ]
    for (const [input, expected] of cases) {
      assert.strictEqual(decimalToCents(input), expected, JSON.stringify(input))
    }
  })

  test('payment ids: short strings or non-negative integers only', ({ assert }) => {
    assert.equal(normalizePaymentId('ap_12-x.y:z'), 'ap_12-x.y:z')
    assert.equal(normalizePaymentId(42), '42')
    for (const bad of ['', 'a b', '<script>', 'x'.repeat(192), -1, 1.5, null, {}]) {
      assert.isNull(normalizePaymentId(bad), JSON.stringify(bad))
    }
  })

  test('diffs: integers or digit strings, non-zero, |diff| ≤ 1e9', ({ assert }) => {
    assert.equal(parseDiff(100), 100)
    assert.equal(parseDiff('-100'), -100)
    assert.equal(parseDiff('+7'), 7)
    assert.equal(parseDiff(1_000_000_000), 1_000_000_000)
    for (const bad of [
      0,
      '0',
      '-0',
      1.5,
      '1.0',
      ' 1',
      '1 000',
      '1e3',
      1e12,
      '1000000001',
      'x',
      '',
      null,
      undefined,
      true,
      [],
    ]) {
      assert.throws(() => parseDiff(bad), AdminInputError as any, /diff/, JSON.stringify(bad))
    }
  })

  test('statuses and idempotency keys', ({ assert }) => {
    assert.equal(parseStatus('blocked'), 'blocked')
    assert.throws(() => parseStatus('BLOCKED'))
    assert.throws(() => parseStatus('deleted'))
    assert.isNull(parseIdempotencyKey(undefined))
    assert.equal(parseIdempotencyKey('ticket-1'), 'ticket-1')
    assert.throws(() => parseIdempotencyKey('has space'))
    assert.throws(() => parseIdempotencyKey('x'.repeat(129)))
  })

  test('packs are the SPEC packs, found by exact name only', ({ assert }) => {
    assert.deepEqual(prices, [
      { name: 'small', price: 1000, tokens: 10_000 },
      { name: 'medium', price: 2500, tokens: 30_000 },
      { name: 'large', price: 5000, tokens: 70_000 },
    ])
    assert.equal(findPack('medium')?.tokens, 30_000)
    for (const bad of ['Medium', 'medium ', 'constructor', '__proto__', 3, null]) {
      assert.isUndefined(findPack(bad))
    }
  })
})
