import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import PaymentOrder from '#models/payment_order'
import type User from '#models/user'
import billingService from '#services/billing_service'
import { findPack } from '#config/prices'
import { FakeApay } from '#tests/fakes/apay_server'
import { recordLogs } from '#tests/helpers/logs'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { rawRequest } from './helpers.js'

const apay = new FakeApay()

async function buy(client: any, user: User, pack = 'small') {
  const response = await signedIn(client.post('/tokens/orders'), user)
    .form({ pack })
    .withCsrfToken()
    .redirects(0)
  const order = await PaymentOrder.query()
    .where('user_id', user.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .firstOrFail()
  return { response, order }
}

function postback(client: any, orderId: string | null, body: unknown) {
  const url = orderId ? `/webhooks/payments/apay?order=${orderId}` : '/webhooks/payments/apay'
  return client.post(url).json(body)
}

async function balanceOf(user: User) {
  await user.refresh()
  return user.balance
}

test.group('apay gateway (fake apay server over HTTP)', (group) => {
  freshState(group)
  group.setup(async () => {
    await apay.start()
    env.set('PAYMENT_GATEWAY', 'apay')
    env.set('APAY_API_URL', apay.url)
    env.set('APAY_TOKEN', apay.token)
    env.set('APAY_TIMEOUT_MS', '1000')
    /* The fake's token is a test-environment token; the default outside production is test. */
    env.set('APAY_ENVIRONMENT', '')
    return async () => {
      env.set('PAYMENT_GATEWAY', 'dev')
      await apay.close()
    }
  })
  group.each.setup(() => {
    apay.reset()
    env.set('APAY_TOKEN', apay.token)
    env.set('APAY_ENVIRONMENT', '')
  })
  group.each.teardown(async () => {
    const assertMod = await import('node:assert')
    const { default: wallet } = await import('#services/wallet_service')
    assertMod.deepEqual(await wallet.findInvariantViolations(), [])
  })

  test('checkout calls init-payment with the order snapshot and redirects to the paymentLink', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { response, order } = await buy(client, user, 'medium')
    response.assertStatus(302)
    assert.equal(response.header('location'), `${apay.url}/pay/${apay.lastPaymentId}`)
    assert.equal(order.gatewayPaymentId, apay.lastPaymentId)

    const init = apay.requests.find((request) => request.path === '/api/v1/init-payment')!
    assert.equal(init.authorization, `Bearer ${apay.token}`)
    assert.include(init.body, { customerEmail: user.email, amount: 25, currency: 'USD' })
    assert.match(init.body.successCallback, new RegExp(`/tokens/orders/${order.id}$`))
    assert.match(
      init.body.failureCallback,
      new RegExp(`/tokens/orders/${order.id}\\?result=failed$`)
    )
    assert.match(init.body.postbackUrl, new RegExp(`/webhooks/payments/apay\\?order=${order.id}$`))
    assert.isString(init.body.customerIp)
    /* As the demo shop sends it: product ids, here one per order, the pack's name by default. */
    assert.deepEqual(init.body.products, ['medium'])
  })

  test('a pack with an apayProductId sends that id; an id apay does not know fails the checkout', async ({
    client,
    assert,
  }) => {
    const medium = findPack('medium')!
    medium.apayProductId = 'kn-102'
    try {
      apay.catalogue = new Set(['small', 'kn-102', 'large'])
      const user = await createUser()
      const { response, order } = await buy(client, user, 'medium')
      response.assertStatus(302)
      assert.equal(order.gatewayPaymentId, apay.lastPaymentId)
      assert.deepEqual(apay.payments.get(apay.lastPaymentId)!.body.products, ['kn-102'])

      /* apay refuses an id not in its catalogue: the order fails, the customer is told. */
      apay.catalogue = new Set(['small', 'large'])
      const refused = await buy(client, user, 'medium')
      refused.response.assertHeader('location', '/tokens')
      assert.match(
        String(refused.response.flashMessage('error')),
        /payment provider is not available/
      )
      assert.equal(refused.order.status, 'failed')
      assert.equal(refused.order.failureReason, 'checkout_unavailable')
      assert.equal(await balanceOf(user), 0)
    } finally {
      delete medium.apayProductId
    }
  })

  test('the fake refuses what apay would: products as objects, missing fields, a wrong token', async ({
    assert,
  }) => {
    const valid = {
      customerEmail: 'a@example.com',
      amount: 10,
      currency: 'USD',
      customerIp: '203.0.113.7',
      successCallback: 'https://shop.example/success',
      failureCallback: 'https://shop.example/failure',
      postbackUrl: 'https://shop.example/postback',
      products: ['small'],
    }
    const init = (body: unknown, token = apay.token) =>
      fetch(`${apay.url}/api/v1/init-payment`, {
        method: 'POST',
        headers: { 'Authorization': `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
    assert.equal((await init(valid)).status, 200)
    for (const products of [
      [{ name: 'vgen: "small" pack', price: 10, quantity: 1 }],
      [1],
      [],
      'small',
      undefined,
    ]) {
      const refused = await init({ ...valid, products })
      assert.equal(refused.status, 400, JSON.stringify(products))
      assert.match(((await refused.json()) as any).message, /products/)
    }
    assert.equal((await init({ ...valid, amount: '10.00' })).status, 400)
    assert.equal((await init({ ...valid, postbackUrl: undefined })).status, 400)
    assert.equal((await init(valid, 'not-a-token')).status, 401)
  })

  test('a paid postback is verified, then credits exactly once even when replayed 10 times', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('paid')
    const body = apay.postbackFor()
    assert.include(body, { status: 'paid', amount: 10, environment: 'test', payway: 'payway1' })

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => postback(client, order.id, body))
    )
    for (const response of responses) response.assertStatus(200)
    assert.equal(await balanceOf(user), 10_000)
    assert.isAtLeast(apay.requests.filter((r) => r.path === '/api/v1/payment-verify').length, 1)
    await order.refresh()
    assert.equal(order.status, 'paid')
    const credits = await db.from('ledger_entries').where('reference', `topup:order:${order.id}`)
    assert.lengthOf(credits, 1)
    assert.equal(credits[0].description, 'Bought "small" pack')
    await assertLedgerInvariant(assert)
  })

  test('the postback is only a hint: "paid" in the body with the gateway saying pending credits nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    const response = await postback(
      client,
      order.id,
      apay.postbackFor(undefined, { status: 'paid' })
    )
    response.assertStatus(202)
    assert.equal(response.body().status, 'pending')
    assert.equal(await balanceOf(user), 0)
  })

  test('a postback arriving before the return: the return page then shows the credit', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('paid')
    ;(await postback(client, order.id, { paymentId: apay.lastPaymentId })).assertStatus(200)
    const page = await signedIn(
      client.get(`/tokens/orders/${order.id}?paymentId=${apay.lastPaymentId}`),
      user
    )
    page.assertTextIncludes('Payment received')
    assert.equal(await balanceOf(user), 10_000)
  })

  test('the return before the postback: pending until verified, then paid', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    const page = await signedIn(
      client.get(`/tokens/orders/${order.id}?paymentId=${apay.lastPaymentId}`),
      user
    )
    page.assertTextIncludes('Payment processing')
    page.assertTextIncludes(`data-payment-id="${apay.lastPaymentId}"`)
    /* A gateway that appends "?paymentId=" to our failure URL's own query. */
    const failedReturn = await signedIn(
      client.get(`/tokens/orders/${order.id}?result=failed?paymentId=${apay.lastPaymentId}`),
      user
    )
    failedReturn.assertTextIncludes('The payment page reported a problem')
    failedReturn.assertTextIncludes(`data-payment-id="${apay.lastPaymentId}"`)
    const status = await signedIn(client.get(`/tokens/orders/${order.id}/status`), user)
    assert.equal(status.body().status, 'pending')

    apay.set('paid')
    ;(await postback(client, order.id, { paymentId: apay.lastPaymentId })).assertStatus(200)
    const after = await signedIn(client.get(`/tokens/orders/${order.id}/status`), user)
    assert.equal(after.body().status, 'paid')
    assert.equal(after.body().balance, 10_000)
  })

  test('a failed payment fails the order, credits nothing; a later "paid" changes nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('failed')
    ;(await postback(client, order.id, { paymentId: apay.lastPaymentId })).assertStatus(200)
    await order.refresh()
    assert.equal(order.status, 'failed')
    apay.set('paid')
    const again = await postback(client, order.id, { paymentId: apay.lastPaymentId })
    assert.equal(again.body().status, 'failed')
    assert.equal(await balanceOf(user), 0)
  })

  test('an unknown status leaves the order pending', async ({ client, assert }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('unknown')
    const response = await postback(client, order.id, { paymentId: apay.lastPaymentId })
    response.assertStatus(202)
    await order.refresh()
    assert.equal(order.status, 'pending')
    assert.equal(await balanceOf(user), 0)
  })

  test('paid with another amount or currency is not credited', async ({ client, assert }) => {
    for (const behaviour of ['wrong_amount', 'wrong_currency'] as const) {
      const user = await createUser()
      const { order } = await buy(client, user)
      apay.set(behaviour)
      const response = await postback(
        client,
        order.id,
        apay.postbackFor(undefined, { status: 'paid', amount: 10, currency: 'USD' })
      )
      response.assertStatus(200)
      assert.equal(response.body().result, 'amount_mismatch')
      await order.refresh()
      assert.equal(order.status, 'failed')
      assert.equal(order.failureReason, 'amount_mismatch')
      assert.equal(await balanceOf(user), 0)
    }
  })

  test('a payment id of another order cannot settle this one', async ({ client, assert }) => {
    const alice = await createUser()
    const mallory = await createUser()
    const { order: aliceOrder } = await buy(client, alice)
    const alicePayment = apay.lastPaymentId
    apay.set('paid', alicePayment)
    const { order: malloryOrder } = await buy(client, mallory)

    const response = await postback(client, malloryOrder.id, { paymentId: alicePayment })
    assert.equal(response.body().result, 'payment_mismatch')
    assert.equal(await balanceOf(mallory), 0)
    await aliceOrder.refresh()
    assert.equal(aliceOrder.status, 'pending')
  })

  test('unknown orders, bad bodies and unknown gateways get clear JSON errors', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    await buy(client, user)

    const unknown = await postback(client, '01900000-0000-7000-8000-000000000000', {
      paymentId: apay.lastPaymentId,
    })
    unknown.assertStatus(404)
    assert.equal(unknown.body().error.code, 'unknown_order')

    const noId = await postback(client, null, { paymentId: 'ap_does_not_exist' })
    noId.assertStatus(404)

    const missing = await postback(client, null, { status: 'paid' })
    missing.assertStatus(400)
    assert.equal(missing.body().error.code, 'invalid_postback')

    for (const raw of ['{"paymentId": ', '"just a string"', '[1, 2']) {
      const malformed = await rawRequest('POST', '/webhooks/payments/apay', raw)
      assert.equal(malformed.status, 400)
      assert.equal(((await malformed.json()) as any).error.code, 'invalid_json')
    }

    const gateway = await client.post('/webhooks/payments/paypal').json({ paymentId: 'x' })
    gateway.assertStatus(404)
    assert.equal(await balanceOf(user), 0)
  })

  test('without the order in the URL the postback finds the order by payment id', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    await buy(client, user)
    apay.set('paid')
    const response = await postback(client, null, { paymentId: apay.lastPaymentId })
    response.assertStatus(200)
    assert.equal(await balanceOf(user), 10_000)
  })

  test('apay down (500) or hanging (timeout): 503 to the postback, nothing decided', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    for (const behaviour of ['error500', 'timeout'] as const) {
      apay.set(behaviour)
      const started = Date.now()
      const response = await postback(client, order.id, { paymentId: apay.lastPaymentId })
      response.assertStatus(503)
      assert.equal(response.body().error.code, 'gateway_unavailable')
      assert.isBelow(Date.now() - started, 5000)
    }
    await order.refresh()
    assert.equal(order.status, 'pending')

    apay.set('paid')
    const summary = await billingService.reconcile()
    assert.include(summary, { checked: 1, paid: 1 })
    assert.equal(await balanceOf(user), 10_000)
  })

  test('checkout with apay down: the order fails, the user is told, nothing charged', async ({
    client,
    assert,
  }) => {
    for (const behaviour of ['error500', 'timeout'] as const) {
      const user = await createUser()
      apay.initBehaviour = behaviour
      const { response, order } = await buy(client, user)
      response.assertStatus(302)
      response.assertHeader('location', '/tokens')
      assert.match(String(response.flashMessage('error')), /payment provider is not available/)
      assert.equal(order.status, 'failed')
    }
  })

  test('no paymentId at checkout: the return page check binds and verifies it', async ({
    client,
    assert,
  }) => {
    apay.initBehaviour = 'no_payment_id'
    const user = await createUser()
    const { order } = await buy(client, user)
    assert.isNull(order.gatewayPaymentId)
    apay.set('paid')

    const check = await signedIn(client.post(`/tokens/orders/${order.id}/check`), user)
      .json({ paymentId: apay.lastPaymentId })
      .withCsrfToken()
    check.assertStatus(200)
    assert.equal(check.body().status, 'paid')
    await order.refresh()
    assert.equal(order.gatewayPaymentId, apay.lastPaymentId)
    assert.equal(await balanceOf(user), 10_000)
  })

  test('reconcile: resolves paid and failed, leaves unknown pending, expires old pending orders', async ({
    client,
    assert,
  }) => {
    const paidUser = await createUser()
    const failedUser = await createUser()
    const waitingUser = await createUser()
    const { order: paid } = await buy(client, paidUser)
    apay.set('paid')
    const { order: failed } = await buy(client, failedUser)
    apay.set('failed')
    const { order: waiting } = await buy(client, waitingUser)
    apay.set('unknown')

    const first = await billingService.reconcile({ expireAfterMinutes: 60 })
    assert.deepEqual(first, { checked: 3, paid: 1, failed: 1, expired: 0, pending: 1, errors: 0 })
    for (const order of [paid, failed, waiting]) await order.refresh()
    assert.deepEqual([paid.status, failed.status, waiting.status], ['paid', 'failed', 'pending'])

    travel(61 * 60 * 1000)
    const second = await billingService.reconcile({ expireAfterMinutes: 60 })
    assert.deepEqual(second, { checked: 1, paid: 0, failed: 0, expired: 1, pending: 0, errors: 0 })
    await waiting.refresh()
    assert.equal(waiting.status, 'expired')

    /* Money that arrives after expiry is not credited automatically (logged for an operator). */
    apay.set('paid', waiting.gatewayPaymentId!)
    const late = await postback(client, waiting.id, { paymentId: waiting.gatewayPaymentId })
    assert.equal(late.body().status, 'expired')
    assert.equal(await balanceOf(waitingUser), 0)
    assert.equal(await balanceOf(paidUser), 10_000)
  })

  test('a postback of the other environment is ignored and logged: no verify, nothing credited', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('paid')
    const logs = recordLogs(['warn'])
    try {
      for (const environment of ['prod', 'PROD', 'staging', 42, { name: 'test' }]) {
        const response = await postback(
          client,
          order.id,
          apay.postbackFor(undefined, { environment })
        )
        response.assertStatus(200)
        assert.deepEqual(response.body(), { status: 'ignored', result: 'environment_mismatch' })
      }
      /* Without the order in the URL too. */
      const bare = await postback(
        client,
        null,
        apay.postbackFor(undefined, { environment: 'prod' })
      )
      assert.equal(bare.body().status, 'ignored')
    } finally {
      logs.stop()
    }
    assert.lengthOf(
      apay.requests.filter((r) => r.path === '/api/v1/payment-verify'),
      0
    )
    await order.refresh()
    assert.equal(order.status, 'pending')
    assert.equal(await balanceOf(user), 0)

    const ignored = logs.records.filter((log) => /postback ignored/.test(log.message))
    assert.lengthOf(ignored, 6)
    assert.include(ignored[0].data, {
      gateway: 'apay',
      orderId: order.id,
      reason: 'environment_mismatch',
      environment: 'prod',
      expectedEnvironment: 'test',
      payway: 'payway1',
      paymentId: apay.lastPaymentId,
    })

    /* Ours ("test", any case) or not stated at all: verified as usual, credited once. */
    const withoutEnvironment: Record<string, unknown> = apay.postbackFor()
    delete withoutEnvironment.environment
    ;(await postback(client, order.id, withoutEnvironment)).assertStatus(200)
    ;(
      await postback(client, order.id, apay.postbackFor(undefined, { environment: ' Test ' }))
    ).assertStatus(200)
    assert.equal(await balanceOf(user), 10_000)
    await assertLedgerInvariant(assert)
  })

  test('APAY_ENVIRONMENT=prod: prod postbacks are verified, test ones ignored', async ({
    client,
    assert,
  }) => {
    env.set('APAY_TOKEN', apay.prodToken)
    env.set('APAY_ENVIRONMENT', 'prod')
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('paid')
    assert.equal(apay.postbackFor().environment, 'prod')

    const testPostback = await postback(
      client,
      order.id,
      apay.postbackFor(undefined, { environment: 'test' })
    )
    assert.equal(testPostback.body().status, 'ignored')
    assert.equal(await balanceOf(user), 0)
    ;(await postback(client, order.id, apay.postbackFor())).assertStatus(200)
    assert.equal(await balanceOf(user), 10_000)
  })

  test('a token of the other environment: verify says so (or knows no such payment), nothing is credited', async ({
    client,
    assert,
  }) => {
    /* Misconfigured: a test token with APAY_ENVIRONMENT=prod. Test payments must not buy real tokens. */
    env.set('APAY_ENVIRONMENT', 'prod')
    const user = await createUser()
    const { order } = await buy(client, user)
    apay.set('paid')
    const logs = recordLogs(['error'])
    let summary
    try {
      summary = await billingService.reconcile()
    } finally {
      logs.stop()
    }
    assert.include(summary, { checked: 1, paid: 0, pending: 1 })
    assert.isTrue(
      logs.records.some(
        (log) => /another environment/.test(log.message) && log.data.environment === 'test'
      )
    )
    await order.refresh()
    assert.equal(order.status, 'pending')

    /* The prod token cannot see a payment made with the test token: not decided either. */
    env.set('APAY_TOKEN', apay.prodToken)
    const response = await postback(
      client,
      order.id,
      apay.postbackFor(undefined, { environment: 'prod' })
    )
    response.assertStatus(503)
    assert.equal(await balanceOf(user), 0)

    /* Fixed configuration: the same payment is credited once. */
    env.set('APAY_TOKEN', apay.token)
    env.set('APAY_ENVIRONMENT', 'test')
    ;(await postback(client, order.id, apay.postbackFor())).assertStatus(200)
    assert.equal(await balanceOf(user), 10_000)
  })
})
