import { test } from '@japa/runner'
import { decimalToCents, normalizePaymentId } from '#integrations/payments/gateway'
import {
  balanceChangeValidator,
  idempotencyKeyValidator,
  statusChangeValidator,
} from '#validators/admin'
import { apayProductIdOf, assertValidPacks, findPack, prices } from '#config/prices'
import { maskSecret } from '#integrations/payments/apay'

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

  const parseDiff = async (diff: unknown) =>
    (await balanceChangeValidator.validate({ userID: 'u', diff })).diff
  const parseStatus = async (status: unknown) =>
    (await statusChangeValidator.validate({ userID: 'u', status })).status
  const parseKey = async (key: unknown) => (await idempotencyKeyValidator.validate({ key })).key

  test('diffs: integers or digit strings, non-zero, |diff| ≤ 1e9', async ({ assert }) => {
    assert.strictEqual(await parseDiff(100), 100)
    assert.strictEqual(await parseDiff('-100'), -100)
    assert.strictEqual(await parseDiff('+7'), 7)
    assert.strictEqual(await parseDiff(1_000_000_000), 1_000_000_000)
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
      await assert.rejects(() => parseDiff(bad))
      const [error] = await balanceChangeValidator.tryValidate({ userID: 'u', diff: bad })
      assert.match(error!.messages[0].message, /^diff /, JSON.stringify(bad))
    }
  })

  test('statuses and idempotency keys', async ({ assert }) => {
    assert.equal(await parseStatus('blocked'), 'blocked')
    await assert.rejects(() => parseStatus('BLOCKED'))
    await assert.rejects(() => parseStatus('deleted'))
    assert.isUndefined(await parseKey(undefined))
    assert.equal(await parseKey('ticket-1'), 'ticket-1')
    await assert.rejects(() => parseKey('has space'))
    await assert.rejects(() => parseKey('x'.repeat(129)))
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

  test('apay product ids: the pack name by default, apayProductId when set', ({ assert }) => {
    assert.deepEqual(prices.map(apayProductIdOf), ['small', 'medium', 'large'])
    assert.equal(
      apayProductIdOf({ name: 'small', price: 1000, tokens: 1, apayProductId: '101' }),
      '101'
    )
  })

  test('a pack list that cannot be sold is refused at boot with the reason', ({ assert }) => {
    const pack = { name: 'small', price: 1000, tokens: 10_000 }
    assert.doesNotThrow(() =>
      assertValidPacks([pack, { ...pack, name: 'b', apayProductId: 'kn-1' }])
    )
    const cases: [any[], RegExp][] = [
      [[pack, { ...pack }], /listed twice/],
      [[pack, { ...pack, name: 'other', apayProductId: 'small' }], /used twice/],
      [[{ ...pack, apayProductId: '' }], /apayProductId/],
      [[{ ...pack, apayProductId: 'has space' }], /apayProductId/],
      [[{ ...pack, apayProductId: 101 }], /apayProductId/],
      [[{ ...pack, name: '' }], /name/],
      [[{ ...pack, price: 10.5 }], /price/],
      [[{ ...pack, price: 0 }], /price/],
      [[{ ...pack, tokens: -1 }], /tokens/],
    ]
    for (const [packs, message] of cases) {
      assert.throws(() => assertValidPacks(packs), message, JSON.stringify(packs))
    }
  })

  test('secrets print as two characters each side and their length', ({ assert }) => {
    assert.equal(maskSecret('fake-apay-test-token-0123456789'), 'fa****89 (31 chars)')
    assert.equal(maskSecret('short'), '****')
  })
})
