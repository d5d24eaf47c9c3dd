import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import type { Page } from 'playwright'
import PaymentOrder from '#models/payment_order'
import billingService from '#services/billing_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { logIn, shootBothWidths, watchConsole } from '#tests/browser/helpers'

/** Desktop and phone screenshots of the current page. */
const shoot = (page: Page, name: string) => shootBothWidths(page, `tokens-${name}`)

test.group('Top-up journey in a browser (dev gateway)', (group) => {
  freshState(group)

  test('buy small → Pay → header shows 10,000 → /usage lists the purchase', async ({
    visit,
    assert,
  }) => {
    const user = await createUser()
    const page = (await visit('/login')) as unknown as Page
    const problems = watchConsole(page)
    await logIn(page, user.email)

    await page.getByRole('link', { name: 'Tokens', exact: true }).click()
    await page.waitForURL('**/tokens')
    await page.getByText('No orders yet').waitFor()
    await shoot(page, 'packs')

    await page.getByRole('button', { name: 'Buy small' }).click()
    await page.waitForURL('**/dev/checkout/**')
    await page.getByText('$10.00').first().waitFor()
    await shoot(page, 'dev-checkout')

    await page.getByRole('button', { name: 'Pay $10.00' }).click()
    await page.waitForURL('**/tokens/orders/**')
    await page.getByRole('heading', { name: 'Payment received' }).waitFor()
    assert.equal(await page.locator('#header-balance').textContent(), '10,000')
    await shoot(page, 'paid')

    await page.getByRole('link', { name: 'Usage', exact: true }).click()
    await page.waitForURL('**/usage')
    const row = page.locator('tbody tr').first()
    assert.include(await row.textContent(), 'Bought "small" pack')
    assert.include(await row.textContent(), '+10,000')
    await shoot(page, 'usage')

    await page.goto('/tokens')
    await page.getByText('Paid').first().waitFor()
    await shoot(page, 'orders')
    assert.deepEqual(problems, [], 'no console errors or CSP violations')
  })

  test('Fail → the page says so and offers to retry', async ({ visit, assert }) => {
    const user = await createUser()
    const page = (await visit('/login')) as unknown as Page
    await logIn(page, user.email)
    await page.goto('/tokens')
    await page.getByRole('button', { name: 'Buy medium' }).click()
    await page.waitForURL('**/dev/checkout/**')
    await page.getByRole('button', { name: 'Fail' }).click()
    await page.getByRole('heading', { name: 'Payment failed' }).waitFor()
    assert.equal(await page.locator('#header-balance').textContent(), '0')
    await shoot(page, 'failed')

    await page.getByRole('button', { name: 'Try again' }).click()
    await page.waitForURL('**/dev/checkout/**')
    await page.getByText('$25.00').first().waitFor()
  })

  test('the processing page updates itself when the payment lands', async ({ visit, assert }) => {
    const user = await createUser()
    const page = (await visit('/login')) as unknown as Page
    const problems = watchConsole(page)
    await logIn(page, user.email)
    await page.goto('/tokens')
    await page.getByRole('button', { name: 'Buy large' }).click()
    await page.waitForURL('**/dev/checkout/**')
    const paymentId = page.url().split('/').at(-1)!

    /* The customer comes back before the provider has confirmed anything. */
    const order = await PaymentOrder.findByOrFail('gateway_payment_id', paymentId)
    /* The page asks the server to check with the gateway (a CSRF-protected POST). */
    const checked = page.waitForResponse(
      (response) =>
        response.url().endsWith(`/tokens/orders/${order.id}/check`) &&
        response.request().method() === 'POST'
    )
    await page.goto(`/tokens/orders/${order.id}`)
    await page.getByRole('heading', { name: 'Payment processing…' }).waitFor()
    const check = await checked
    assert.equal(check.status(), 200)
    assert.equal((await check.json()).status, 'pending')
    await shoot(page, 'processing')

    /* Then the provider confirms and its postback arrives. */
    await db.from('dev_payments').where('id', paymentId).update({ status: 'paid' })
    await billingService.handlePostback('dev', order.id, { paymentId })

    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 })
    assert.equal(await page.locator('#header-balance').textContent(), '70,000')
    assert.deepEqual(problems, [], 'no console errors or CSP violations')
  })
})
