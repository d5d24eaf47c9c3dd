import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import PaymentOrder from '#models/payment_order'
import type User from '#models/user'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'

/** Buys a pack as `user` and returns the order and the checkout location. */
async function buy(client: any, user: User, pack = 'small') {
  const response = await signedIn(client.post('/tokens/orders'), user)
    .form({ pack })
    .withCsrfToken()
    .redirects(0)
  response.assertStatus(302)
  const order = await PaymentOrder.query()
    .where('user_id', user.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .firstOrFail()
  return { order, location: response.header('location') as string }
}

async function payOnDevCheckout(client: any, location: string, outcome: 'paid' | 'failed') {
  return client.post(location).form({ outcome }).withCsrfToken().redirects(0)
}

test.group('Tokens page and dev checkout', (group) => {
  freshState(group)
  group.each.teardown(async () => {
    const assertMod = await import('node:assert')
    const { default: wallet } = await import('#services/wallet_service')
    assertMod.deepEqual(await wallet.findInvariantViolations(), [])
  })

  test('shows the three packs from config/prices.ts with tokens and price', async ({ client }) => {
    const user = await createUser()
    const page = await signedIn(client.get('/tokens'), user)
    page.assertStatus(200)
    for (const text of [
      '10,000',
      '$10.00',
      '30,000',
      '$25.00',
      '70,000',
      '$50.00',
      'Buy small',
      'Buy medium',
      'Buy large',
    ]) {
      page.assertTextIncludes(text)
    }
    page.assertTextIncludes('No orders yet')
  })

  test('signed-out visitors are sent to the login page', async ({ client }) => {
    for (const path of [
      '/tokens',
      '/usage',
      '/tokens/orders/0190a0a0-0000-7000-8000-000000000000',
    ]) {
      const response = await client.get(path).redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/login')
    }
  })

  test('buy small → Pay → the order is paid, 10,000 tokens credited once, the page shows the balance', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order, location } = await buy(client, user)
    assert.match(location, /^\/dev\/checkout\//)
    assert.include(
      {
        status: order.status,
        pack: order.packName,
        price: order.priceCents,
        tokens: order.tokens,
        currency: order.currency,
      },
      { status: 'pending', pack: 'small', price: 1000, tokens: 10_000, currency: 'USD' }
    )

    const checkout = await client.get(location)
    checkout.assertStatus(200)
    checkout.assertTextIncludes('$10.00')

    const paid = await payOnDevCheckout(client, location, 'paid')
    paid.assertStatus(302)
    assert.match(paid.header('location'), new RegExp(`^/tokens/orders/${order.id}\\?paymentId=`))

    await order.refresh()
    await user.refresh()
    assert.equal(order.status, 'paid')
    assert.equal(user.balance, 10_000)

    const page = await signedIn(client.get(paid.header('location')), user)
    page.assertStatus(200)
    page.assertTextIncludes('Payment received')
    page.assertTextIncludes('10,000')

    const again = await payOnDevCheckout(client, location, 'paid')
    again.assertStatus(302)
    await user.refresh()
    assert.equal(user.balance, 10_000, 'paying twice credits once')
    const rows = await db.from('ledger_entries').where('user_id', user.id)
    assert.lengthOf(rows, 1)
    assert.equal(rows[0].reference, `topup:order:${order.id}`)
    await assertLedgerInvariant(assert)
  })

  test('Fail → the order fails, nothing is credited, the page offers to retry', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order, location } = await buy(client, user, 'medium')
    const failed = await payOnDevCheckout(client, location, 'failed')
    assert.match(failed.header('location'), /\?result=failed&paymentId=/)
    await order.refresh()
    assert.equal(order.status, 'failed')
    await user.refresh()
    assert.equal(user.balance, 0)

    const page = await signedIn(client.get(failed.header('location')), user)
    page.assertTextIncludes('Payment failed')
    page.assertTextIncludes('Try again')
    page.assertTextIncludes('value="medium"')
  })

  test('a pack not in the config creates nothing and says so', async ({ client, assert }) => {
    const user = await createUser()
    for (const pack of ['huge', '', 'SMALL', 'small pack', '__proto__']) {
      const response = await signedIn(client.post('/tokens/orders'), user)
        .form({ pack })
        .withCsrfToken()
        .redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/tokens')
      response.assertFlashMessage('error', 'Please choose one of the packs below.')
    }
    assert.lengthOf(await PaymentOrder.all(), 0)
  })

  test('the processing page and status JSON never write; another user gets 404', async ({
    client,
    assert,
  }) => {
    const owner = await createUser()
    const stranger = await createUser()
    const { order } = await buy(client, owner)

    const before = await db.from('payment_orders').where('id', order.id).first()
    const page = await signedIn(client.get(`/tokens/orders/${order.id}`), owner)
    page.assertStatus(200)
    page.assertTextIncludes('Payment processing')
    const status = await signedIn(client.get(`/tokens/orders/${order.id}/status`), owner).accept(
      'json'
    )
    status.assertStatus(200)
    assert.equal(status.body().status, 'pending')
    assert.deepEqual(await db.from('payment_orders').where('id', order.id).first(), before)

    for (const path of [
      `/tokens/orders/${order.id}`,
      `/tokens/orders/${order.id}/status`,
      '/tokens/orders/not-an-id',
    ]) {
      const response = await signedIn(client.get(path), stranger)
      response.assertStatus(404)
    }
    const check = await signedIn(
      client.post(`/tokens/orders/${order.id}/check`),
      stranger
    ).withCsrfToken()
    check.assertStatus(404)
  })

  test('the return page check (POST) settles a paid order even if no postback came', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order, location } = await buy(client, user)
    /* The provider records the payment, but its postback is lost. */
    const paymentId = location.split('/').at(-1)!
    await db.from('dev_payments').where('id', paymentId).update({ status: 'paid' })

    const check = await signedIn(client.post(`/tokens/orders/${order.id}/check`), user)
      .json({ paymentId })
      .withCsrfToken()
      .accept('json')
    check.assertStatus(200)
    assert.equal(check.body().status, 'paid')
    assert.equal(check.body().balance, 10_000)
  })

  test("the orders list shows the user's own orders only", async ({ client }) => {
    const user = await createUser()
    const other = await createUser()
    await buy(client, user, 'large')
    await buy(client, other, 'medium')
    const page = await signedIn(client.get('/tokens'), user)
    page.assertTextIncludes('$50.00')
    page.assertTextIncludes('Processing')
    const rows = (page.text().match(/<tbody>[\s\S]*<\/tbody>/) ?? [''])[0]
    if (rows.includes('medium')) throw new Error("another user's order is listed")
  })

  test('the dev checkout page of an unknown payment is a 404', async ({ client }) => {
    const response = await client.get('/dev/checkout/nope')
    response.assertStatus(404)
  })
})
