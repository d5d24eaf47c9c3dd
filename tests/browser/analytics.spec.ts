import { test } from '@japa/runner'
import type { BrowserContext, Page } from 'playwright'
import env from '#start/env'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'

const PASSWORD = 'correct horse battery'

/**
 * The test machine has no internet: gtm.js is answered locally (it counts
 * its own runs, which proves the browser let it execute under our CSP) and
 * every other outside request is cut.
 */
async function offlineGtm(context: BrowserContext) {
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => route.abort()
  )
  await context.route('https://www.googletagmanager.com/gtm.js?**', (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: 'window.__gtmRuns = (window.__gtmRuns || 0) + 1;',
    })
  )
  await context.addInitScript(() => {
    const page = globalThis as any
    const violations: string[] = (page.__cspViolations = [])
    page.document.addEventListener('securitypolicyviolation', (event: any) =>
      violations.push(`${event.violatedDirective} ${event.blockedURI}`)
    )
  })
}

/** What GTM would see: the dataLayer, the script nonces and CSP violations. */
async function analyticsState(page: Page) {
  await page.waitForFunction(() => (globalThis as any).__gtmRuns === 1)
  return page.evaluate(() => {
    /* Runs in the browser (the project compiles without DOM typings). */
    const browser = globalThis as any
    const snippet = browser.document.querySelector('script[data-gtm]')
    const gtmJs = browser.document.querySelector('script[src*="googletagmanager.com/gtm.js"]')
    return {
      dataLayer: JSON.parse(JSON.stringify(browser.dataLayer)),
      snippetNonce: snippet?.nonce as string | undefined,
      gtmJsNonce: gtmJs?.nonce as string | undefined,
      gtmJsSrc: gtmJs?.src as string | undefined,
      noscript: (browser.document.querySelector('noscript')?.innerHTML ?? '') as string,
      violations: browser.__cspViolations as string[],
    }
  })
}

function nonceOf(csp: string | undefined) {
  return csp?.match(/'nonce-([^']+)'/)?.[1]
}

test.group('Google Tag Manager', (group) => {
  freshState(group)

  test('signed out: GTM loads with the CSP nonce and the dataLayer knows no user', async ({
    browserContext,
    assert,
  }) => {
    await offlineGtm(browserContext)
    const page = await browserContext.newPage()
    const response = await page.goto('/login')
    const nonce = nonceOf(response?.headers()['content-security-policy'])
    assert.isString(nonce)

    const state = await analyticsState(page)
    assert.equal(state.snippetNonce, nonce)
    assert.equal(state.gtmJsNonce, nonce)
    assert.equal(state.gtmJsSrc, `https://www.googletagmanager.com/gtm.js?id=${env.get('GTM_ID')}`)
    assert.include(
      state.noscript,
      `https://www.googletagmanager.com/ns.html?id=${env.get('GTM_ID')}`
    )
    assert.deepEqual(state.violations, [])

    /* Consent defaults and the linker come first (tests/browser/consent.spec.ts), then gtm.js. */
    assert.equal(state.dataLayer.at(-1).event, 'gtm.js')
    assert.notMatch(JSON.stringify(state.dataLayer), /userId|email/)
  })

  test('signed in: { userId } (never the email) is pushed before GTM loads, on every app page', async ({
    browserContext,
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    await offlineGtm(browserContext)
    const page = await browserContext.newPage()
    await page.goto('/login')
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL('**/tasks')

    for (const path of ['/tasks', '/tokens', '/usage']) {
      const response = await page.goto(path)
      const nonce = nonceOf(response?.headers()['content-security-policy'])
      const state = await analyticsState(page)
      const userAt = state.dataLayer.findIndex((entry: any) => entry.userId !== undefined)
      assert.deepEqual(state.dataLayer[userAt], { userId: user.id }, path)
      assert.equal(state.dataLayer[userAt + 1].event, 'gtm.js', path)
      assert.notInclude(JSON.stringify(state.dataLayer), user.email, path)
      assert.equal(state.gtmJsNonce, nonce, path)
      assert.deepEqual(state.violations, [], path)
    }

    // After logging out the page no longer carries the identity.
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL('**/login')
    const state = await analyticsState(page)
    assert.notMatch(JSON.stringify(state.dataLayer), /userId|email/)
  })
})
