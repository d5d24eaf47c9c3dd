import { test } from '@japa/runner'
import ace from '@adonisjs/core/services/ace'
import env from '#start/env'
import PaymentOrder from '#models/payment_order'
import PaymentsProbeCommand from '../../../commands/payments_probe.js'
import { FakeApay } from '#tests/fakes/apay_server'
import { freshState } from '#tests/helpers/db'

const apay = new FakeApay()

/** Runs the probe in-process with its output captured. */
async function probe(args: string[] = []) {
  ace.ui.switchMode('raw')
  const instance = await ace.create(PaymentsProbeCommand, args)
  await instance.exec()
  const output = instance.ui.logger
    .getLogs()
    .map((log: { message: string }) => log.message)
    .join('\n')
  return { exitCode: instance.exitCode ?? 0, output }
}

const calls = (path: string) => apay.requests.filter((request) => request.path === path)

test.group('payments:probe against the fake apay server over HTTP', (group) => {
  freshState(group)
  group.setup(async () => {
    await apay.start()
    return async () => {
      ace.ui.switchMode('normal')
      env.set('APAY_TOKEN', '')
      await apay.close()
    }
  })
  group.each.setup(() => {
    apay.reset()
    env.set('APAY_API_URL', apay.url)
    env.set('APAY_TOKEN', apay.token)
    env.set('APAY_ENVIRONMENT', 'test')
    env.set('APAY_TIMEOUT_MS', '1000')
  })

  test('creates one payment, verifies it, prints both answers and our reading, token masked', async ({
    assert,
  }) => {
    const { exitCode, output } = await probe(['--pack=medium', '--email=ops@example.com'])
    assert.equal(exitCode, 0, output)

    const [init] = calls('/api/v1/init-payment')
    assert.lengthOf(calls('/api/v1/init-payment'), 1)
    assert.deepEqual(init.body.products, ['medium'])
    assert.include(init.body, { amount: 25, currency: 'USD', customerEmail: 'ops@example.com' })
    assert.match(init.body.postbackUrl, /\/webhooks\/payments\/apay$/)
    assert.match(init.body.failureCallback, /\/tokens\?result=failed$/)
    assert.deepEqual(calls('/api/v1/payment-verify')[0].body, { paymentId: apay.lastPaymentId })

    assert.include(output, '→ POST /api/v1/init-payment')
    assert.include(output, '← HTTP 200 (application/json)')
    assert.include(output, `"paymentLink": "${apay.url}/pay/${apay.lastPaymentId}"`)
    assert.include(output, `our reading: paymentId ${apay.lastPaymentId}`)
    assert.include(output, '→ POST /api/v1/payment-verify')
    assert.include(output, 'our reading: fields at the top level')
    assert.include(output, 'status "pending" → pending')
    assert.include(output, 'amount 25 (number) → 2500 cents, currency USD')
    assert.include(output, 'environment "test"')
    assert.include(output, 'Authorization: Bearer fa****89 (31 chars)')
    assert.notInclude(output, apay.token)
    /* A probe is not an order. */
    assert.lengthOf(await PaymentOrder.all(), 0)
  })

  test('--payment-id verifies an existing payment only; unmapped words and secrets in answers', async ({
    assert,
  }) => {
    await probe()
    const paymentId = apay.lastPaymentId
    apay.requests = []
    apay.set('paid', paymentId)
    const paid = await probe([`--payment-id=${paymentId}`])
    assert.equal(paid.exitCode, 0, paid.output)
    assert.lengthOf(calls('/api/v1/init-payment'), 0)
    assert.include(paid.output, 'status "paid" → paid')

    apay.set('unknown', paymentId)
    apay.verifyExtras = {
      apiKey: 'live-secret-key-abcdef',
      nested: { webhookSecret: 'whsec-0123456789' },
      echo: `Bearer ${apay.token}`,
    }
    const odd = await probe([`--payment-id=${paymentId}`])
    assert.equal(odd.exitCode, 0)
    assert.include(odd.output, 'status "on_hold" → pending (a word we do not map')
    for (const secret of ['live-secret-key-abcdef', 'whsec-0123456789', apay.token]) {
      assert.notInclude(odd.output, secret)
    }
    assert.include(odd.output, '"apiKey": "li****ef (22 chars)"')
  })

  test('refusals and failures are printed and exit 1', async ({ assert }) => {
    /* verify answering 500 */
    await probe()
    apay.set('error500')
    const down = await probe([`--payment-id=${apay.lastPaymentId}`])
    assert.equal(down.exitCode, 1)
    assert.include(down.output, '← HTTP 500')

    /* init-payment refusing the products (an id apay does not know) */
    apay.catalogue = new Set(['large'])
    const refused = await probe(['--pack=small'])
    assert.equal(refused.exitCode, 1)
    assert.include(refused.output, '← HTTP 400')
    assert.include(refused.output, 'unknown product small')
    assert.include(refused.output, 'payment-verify skipped')

    /* a token apay does not know */
    env.set('APAY_TOKEN', 'wrong-token-000000000000')
    const unauthorized = await probe()
    assert.equal(unauthorized.exitCode, 1)
    assert.include(unauthorized.output, '← HTTP 401')
    assert.notInclude(unauthorized.output, 'wrong-token-000000000000')

    /* nobody listening */
    env.set('APAY_TOKEN', apay.token)
    env.set('APAY_API_URL', 'http://127.0.0.1:9')
    const unreachable = await probe()
    assert.equal(unreachable.exitCode, 1)
    assert.include(unreachable.output, 'unreachable')
  })

  test('bad input and a prod environment change nothing and say why', async ({ assert }) => {
    for (const args of [['--pack=huge'], ['--payment-id=a b'], ['--payment-id=<script>']]) {
      const result = await probe(args)
      assert.equal(result.exitCode, 1, args.join(' '))
    }
    assert.include((await probe(['--pack=huge'])).output, 'Unknown pack "huge"')

    env.set('APAY_ENVIRONMENT', 'prod')
    const prod = await probe()
    assert.equal(prod.exitCode, 1)
    assert.include(prod.output, 'Probe with a test token')

    env.set('APAY_ENVIRONMENT', 'test')
    env.set('APAY_TOKEN', '')
    const unconfigured = await probe()
    assert.equal(unconfigured.exitCode, 1)
    assert.include(unconfigured.output, 'APAY_API_URL and APAY_TOKEN')
    assert.lengthOf(apay.requests, 0)
  })

  test('--products reads the Konnektive catalogue with its payway token', async ({ assert }) => {
    env.set('APAY_TOKEN', apay.konnektiveToken)
    const listed = await probe(['--products'])
    assert.equal(listed.exitCode, 0, listed.output)
    assert.include(listed.output, '→ GET /api/v1/konnektive/products')
    assert.include(listed.output, '"productName": "Starter"')

    env.set('APAY_TOKEN', apay.token)
    const other = await probe(['--products'])
    assert.equal(other.exitCode, 1)
    assert.include(other.output, 'No product catalogue for this payway')
  })
})
