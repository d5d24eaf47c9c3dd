import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { appUrl } from '#config/app'
import PaymentOrder from '#models/payment_order'
import type User from '#models/user'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { deliverMails, mailsTo } from '#tests/helpers/mailbox'
import taskService from '#services/tasks/task_service'
import { seededTask } from '#tests/functional/tasks/helpers'

/** Buys a pack through the dev checkout; returns the order after the outcome. */
async function buyAndPay(client: any, user: User, pack: string, outcome: 'paid' | 'failed') {
  const response = await signedIn(client.post('/tokens/orders'), user)
    .form({ pack })
    .withCsrfToken()
    .redirects(0)
  response.assertStatus(302)
  await client.post(response.header('location')).form({ outcome }).withCsrfToken().redirects(0)
  return PaymentOrder.query()
    .where('user_id', user.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .firstOrFail()
}

test.group('Receipts', (group) => {
  freshState(group)

  test('a credited top-up mails one receipt with pack, tokens, amount, order id, date and balance after', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 500 })
    const order = await buyAndPay(client, user, 'medium', 'paid')
    assert.equal(order.status, 'paid')
    /* Settling again (a replayed postback, the reconciler) adds no second receipt. */
    await client.post(`/tokens/orders/${order.id}/check`)
    assert.lengthOf(await db.from('mail_outbox').where('dedupe_key', `receipt:${order.id}`), 1)

    const mails = (await mailsTo(user.email)).filter((mail) => mail.subject.includes('receipt'))
    assert.lengthOf(mails, 1)
    const text = mails[0].text
    for (const part of [
      'Pack: “medium”',
      'Tokens: 30,000',
      'Amount paid: $25.00 (USD)',
      `Order id: ${order.id}`,
      'Balance after: 30,500 tokens',
      'not a tax invoice',
      `${appUrl}/tokens/orders/${order.id}/receipt`,
    ]) {
      assert.include(text, part)
    }
    assert.match(text, /Date: \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/)
    assert.include(mails[0].html, 'View printable receipt')
  })

  test('the receipt page is the owner’s only; another user’s, an unpaid one and a bad id are 404', async ({
    client,
    assert,
  }) => {
    const owner = await createUser()
    const stranger = await createUser()
    const paid = await buyAndPay(client, owner, 'small', 'paid')
    const failed = await buyAndPay(client, owner, 'small', 'failed')

    const page = await signedIn(client.get(`/tokens/orders/${paid.id}/receipt`), owner)
    page.assertStatus(200)
    for (const part of [
      'Receipt',
      '“small”',
      '10,000',
      '$10.00 (USD)',
      paid.id,
      'It is not a tax invoice',
      '10,000 tokens',
    ]) {
      page.assertTextIncludes(part)
    }
    assert.match(
      page.text(),
      /<time datetime="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z" data-local-time>/
    )

    const list = await signedIn(client.get('/tokens'), owner)
    list.assertTextIncludes(`href="/tokens/orders/${paid.id}/receipt"`)
    assert.notInclude(list.text(), `/tokens/orders/${failed.id}/receipt`)

    for (const [user, id] of [
      [stranger, paid.id],
      [owner, failed.id],
      [owner, 'not-an-id'],
      [owner, '0190a0a0-0000-7000-8000-000000000000'],
    ] as const) {
      const response = await signedIn(client.get(`/tokens/orders/${id}/receipt`), user)
      response.assertStatus(404)
      assert.notInclude(response.text(), paid.id)
    }
    const signedOut = await client.get(`/tokens/orders/${paid.id}/receipt`).redirects(0)
    signedOut.assertStatus(302)
  })

  test('a failed payment mails no receipt', async ({ client, assert }) => {
    const user = await createUser()
    await buyAndPay(client, user, 'small', 'failed')
    await deliverMails()
    assert.lengthOf(await mailsTo(user.email), 0)
  })
})

test.group('Low balance mail', (group) => {
  freshState(group)

  test('a launch that leaves less than its cost mails once a day, with a link to /tokens', async ({
    assert,
  }) => {
    /* The seeded lipsync task costs 100 tokens. */
    const user = await createUser({ balance: 350 })
    const task = await seededTask(user)
    const first = await taskService.launch(user.id, task.id)
    assert.equal(first.cost, 100)
    await db.from('runs').where('id', first.id).update({ status: 'succeeded' })
    /* 250 left: more than the cost, no mail. */
    assert.lengthOf(await mailsTo(user.email), 0)

    await taskService.launch(user.id, task.id)
    await db.from('runs').where('task_id', task.id).update({ status: 'succeeded' })
    /* 150 left: still enough. Then 50 left: below the cost → one mail. */
    await taskService.launch(user.id, task.id)
    await db.from('runs').where('task_id', task.id).update({ status: 'succeeded' })
    let mails = await mailsTo(user.email)
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'Your vgen balance is running low')
    assert.include(mails[0].text, 'You have 50 tokens left, less than the 100 tokens')
    assert.include(mails[0].text, `${appUrl}/tokens`)

    /* Topped up and run down again the same day: no second mail. */
    await db.from('users').where('id', user.id).update({ balance: 150 })
    await db
      .from('ledger_entries')
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .limit(1)
      .update({ new_balance: 150 })
    await taskService.launch(user.id, task.id)
    mails = await mailsTo(user.email)
    assert.lengthOf(mails, 1)
  })

  test('switched off: no mail', async ({ assert }) => {
    const user = await createUser({ balance: 150 })
    await db.from('users').where('id', user.id).update({ notify_low_balance: false })
    const task = await seededTask(user)
    await taskService.launch(user.id, task.id)
    assert.lengthOf(await mailsTo(user.email), 0)
  })
})
