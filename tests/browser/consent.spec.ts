import { test } from '@japa/runner'
import type { BrowserContext, Page } from 'playwright'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { logIn, screenshot, watchConsole } from '#tests/browser/helpers'

const DENIED = {
  analytics_storage: 'denied',
  ad_storage: 'denied',
  ad_user_data: 'denied',
  ad_personalization: 'denied',
}

/**
 * No internet here, like a visitor whose blocker drops GTM: gtm.js fails to
 * load (the page must not care) and every outside request is cut. CSP
 * violations are collected from the page.
 */
async function offline(context: BrowserContext) {
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => route.abort('internetdisconnected')
  )
  await context.addInitScript(() => {
    const page = globalThis as any
    const violations: string[] = (page.__cspViolations = [])
    page.document.addEventListener('securitypolicyviolation', (event: any) =>
      violations.push(`${event.violatedDirective} ${event.blockedURI}`)
    )
  })
}

/** The dataLayer with gtag's `arguments` entries turned into plain arrays. */
function dataLayer(page: Page): Promise<any[]> {
  return page.evaluate(() =>
    ((globalThis as any).dataLayer as any[]).map((entry) =>
      Object.prototype.toString.call(entry) === '[object Arguments]'
        ? Array.from(entry)
        : JSON.parse(JSON.stringify(entry))
    )
  )
}

const consentCalls = (layer: any[]) =>
  layer.filter((e) => Array.isArray(e) && e[0] === 'consent').map((e) => [e[1], e[2]])
const gtmStart = (layer: any[]) => layer.findIndex((e) => e?.event === 'gtm.js')

async function bannerVisible(page: Page) {
  return page.locator('[data-consent-banner]').isVisible()
}

/** Every inline script carries the response's CSP nonce; the others are same-origin files. */
async function scriptsCoveredByNonce(page: Page, csp: string | undefined) {
  const nonce = csp?.match(/'nonce-([^']+)'/)?.[1]
  const scripts = await page.evaluate(() =>
    [...(globalThis as any).document.scripts].map((s: any) => ({ src: s.src, nonce: s.nonce }))
  )
  const origin = new URL(page.url()).origin
  return scripts.filter(
    (s) => !(s.src ? s.src.startsWith(origin) || s.nonce === nonce : nonce && s.nonce === nonce)
  )
}

test.group('Consent Mode and the cookie banner', (group) => {
  freshState(group)

  test('before a choice: denied defaults ahead of gtm.js, the banner shows, nothing is covered', async ({
    browserContext,
    assert,
  }) => {
    await offline(browserContext)
    const page = await browserContext.newPage()
    const problems = watchConsole(page)
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 })
      const response = await page.goto('/login')
      const layer = await dataLayer(page)
      assert.deepEqual(consentCalls(layer), [['default', DENIED]])
      const defaultAt = layer.findIndex((e) => Array.isArray(e) && e[1] === 'default')
      assert.isAbove(gtmStart(layer), defaultAt)
      assert.isTrue(await bannerVisible(page))
      assert.deepEqual(layer.find((e) => e?.gaLinker)?.gaLinker, {
        domains: ['landing.vgen.test', 'localhost'],
        accept_incoming: true,
      })
      assert.equal(
        await page.locator('[data-consent-banner] a').getAttribute('href'),
        'https://landing.vgen.test/privacy/#cookies'
      )
      assert.deepEqual(
        await scriptsCoveredByNonce(page, response?.headers()['content-security-policy']),
        []
      )
      /* The form's button is reachable: not under the banner. */
      const covered = await page.evaluate(() => {
        const doc = (globalThis as any).document
        const button = doc.querySelector('main button[type="submit"]')
        const box = button.getBoundingClientRect()
        const top = doc.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2)
        return !button.contains(top)
      })
      assert.isFalse(covered, `the Log in button is covered at ${width}px`)
      await screenshot(page, `consent-banner-login-${width}`)
      await page.screenshot({
        path: `tmp/screenshots/consent-banner-login-${width}-viewport.png`,
      })
    }
    assert.deepEqual(await page.evaluate(() => (globalThis as any).__cspViolations), [])
    assert.deepEqual(problems, [])
  })

  test('Accept: consent update granted + the event the GA tag fires on; remembered for 6 months', async ({
    browserContext,
    assert,
  }) => {
    await offline(browserContext)
    const page = await browserContext.newPage()
    const problems = watchConsole(page)
    await page.goto('/signup')
    await page.getByRole('button', { name: 'Accept' }).click()
    const layer = await dataLayer(page)
    assert.deepEqual(consentCalls(layer), [
      ['default', DENIED],
      ['update', { analytics_storage: 'granted' }],
    ])
    assert.equal(layer.at(-1).event, 'vgen_consent_granted')
    assert.isFalse(await bannerVisible(page))
    const stored = await page.evaluate(() =>
      JSON.parse((globalThis as any).localStorage.getItem('vgen_consent'))
    )
    assert.equal(stored.choice, 'granted')
    const days = (stored.expires - Date.now()) / 86_400_000
    assert.isAbove(days, 180)
    assert.isBelow(days, 185)

    /* Next page: the stored choice is replayed before GTM starts; no banner. */
    await page.goto('/login')
    const next = await dataLayer(page)
    assert.deepEqual(consentCalls(next), [
      ['default', DENIED],
      ['update', { analytics_storage: 'granted' }],
    ])
    const updateAt = next.findIndex((e) => Array.isArray(e) && e[1] === 'update')
    assert.isAbove(gtmStart(next), updateAt)
    assert.isFalse(await bannerVisible(page))
    assert.deepEqual(await page.evaluate(() => (globalThis as any).__cspViolations), [])
    assert.deepEqual(problems, [])
  })

  test('Reject: denied, remembered across pages and a reload; "Cookie settings" reopens it', async ({
    browserContext,
    assert,
  }) => {
    await offline(browserContext)
    const page = await browserContext.newPage()
    const problems = watchConsole(page)
    await page.goto('/login')
    await page.getByRole('button', { name: 'Reject' }).click()
    assert.deepEqual(consentCalls(await dataLayer(page)), [
      ['default', DENIED],
      ['update', DENIED],
    ])
    assert.notInclude(
      (await dataLayer(page)).map((e) => e?.event),
      'vgen_consent_granted'
    )

    for (const path of ['/signup', '/forgot-password']) {
      await page.goto(path)
      assert.isFalse(await bannerVisible(page), path)
      assert.deepEqual(consentCalls(await dataLayer(page)), [
        ['default', DENIED],
        ['update', DENIED],
      ])
    }
    await page.reload()
    assert.isFalse(await bannerVisible(page))
    assert.deepEqual(consentCalls(await dataLayer(page)).at(-1), ['update', DENIED])

    /* The footer link reopens the banner with the current choice; Accept switches. */
    await page.getByRole('link', { name: 'Cookie settings' }).click()
    assert.isTrue(await bannerVisible(page))
    assert.include(await page.locator('[data-consent-current]').innerText(), 'rejected')
    await page.setViewportSize({ width: 390, height: 844 })
    await screenshot(page, 'consent-banner-reopened-390')
    await page.getByRole('button', { name: 'Accept' }).click()
    assert.deepEqual(consentCalls(await dataLayer(page)).at(-1), [
      'update',
      { analytics_storage: 'granted' },
    ])
    assert.deepEqual(problems, [])
  })

  test('an expired or malformed stored choice asks again; error pages have the banner too', async ({
    browserContext,
    assert,
  }) => {
    await offline(browserContext)
    const page = await browserContext.newPage()
    const response = await page.goto('/no-such-page')
    assert.equal(response?.status(), 404)
    assert.isTrue(await bannerVisible(page))
    assert.deepEqual(consentCalls(await dataLayer(page)), [['default', DENIED]])
    await page.goto('/login')
    for (const value of [
      JSON.stringify({ choice: 'granted', expires: Date.now() - 1000 }),
      JSON.stringify({ choice: 'yes please', expires: Date.now() + 1e9 }),
      '{not json',
    ]) {
      await page.evaluate((v) => (globalThis as any).localStorage.setItem('vgen_consent', v), value)
      await page.reload()
      assert.isTrue(await bannerVisible(page), value)
      assert.deepEqual(consentCalls(await dataLayer(page)), [['default', DENIED]], value)
    }
  })

  test('signed in: the banner on app pages, userId (no email) before gtm.js, nonces on every script', async ({
    browserContext,
    assert,
  }) => {
    const user = await createUser({ email: 'consent@example.com' })
    await offline(browserContext)
    const page = await browserContext.newPage()
    const problems = watchConsole(page)
    await logIn(page, user.email)
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 })
      const response = await page.goto('/tasks')
      const layer = await dataLayer(page)
      const userAt = layer.findIndex((e) => e?.userId === user.id)
      assert.isAtLeast(userAt, 0)
      assert.isBelow(userAt, gtmStart(layer))
      assert.notInclude(JSON.stringify(layer), user.email)
      assert.isTrue(await bannerVisible(page))
      assert.deepEqual(
        await scriptsCoveredByNonce(page, response?.headers()['content-security-policy']),
        []
      )
      await screenshot(page, `consent-banner-tasks-${width}`)
    }
    await page.getByRole('button', { name: 'Reject' }).click()
    await page.goto('/tokens')
    assert.isFalse(await bannerVisible(page))
    assert.deepEqual(await page.evaluate(() => (globalThis as any).__cspViolations), [])
    assert.deepEqual(problems, [])
  })
})
