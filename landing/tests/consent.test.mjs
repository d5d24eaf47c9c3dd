// Headless Chromium check of Consent Mode and the cookie banner on the built
// site (dist/, served with the real netlify.toml CSP). GTM cannot load here (no
// internet), so gtm.js is cut like a blocker would: the page must not care.
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { test, ok, noProblems } from './harness.mjs'
import { DIST, RESULTS } from './site.mjs'
import { serve } from '../scripts/serve.mjs'

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--mute-audio']
const DENIED = { analytics_storage: 'denied', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' }
const SIZES = {
  390: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  1280: { viewport: { width: 1280, height: 800 } },
}

let browser
let server

async function open(size = 1280) {
  if (!browser) {
    server = await serve(DIST)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
  }
  const context = await browser.newContext(SIZES[size])
  context.setDefaultTimeout(10000)
  const errors = []
  // Everything outside the local server fails, gtm.js included (no internet here).
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort('internetdisconnected'))
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp = (window.__csp || []).concat(`${e.violatedDirective} ${e.blockedURI}`)
    })
  })
  const page = await context.newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/ERR_INTERNET_DISCONNECTED/.test(msg.text())) errors.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`))
  const done = async () => {
    const csp = await page.evaluate(() => window.__csp || []).catch(() => [])
    await context.close()
    noProblems([...errors, ...csp.map((c) => `CSP: ${c}`)], 'console/CSP')
  }
  return { page, done }
}

/** The dataLayer with gtag's `arguments` entries as arrays. */
const dataLayer = (page) =>
  page.evaluate(() =>
    window.dataLayer.map((e) => (Object.prototype.toString.call(e) === '[object Arguments]' ? Array.from(e) : JSON.parse(JSON.stringify(e)))),
  )
const consentCalls = (layer) => layer.filter((e) => Array.isArray(e) && e[0] === 'consent').map((e) => [e[1], e[2]])
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
const bannerShown = (page) => page.locator('[data-consent-banner]').isVisible()

for (const size of [390, 1280]) {
  test(`consent (${size}px): denied default ahead of gtm.js, the banner shows and leaves the main CTA free`, async () => {
    const { page, done } = await open(size)
    try {
      await page.goto(server.url + '/')
      const layer = await dataLayer(page)
      ok(same(consentCalls(layer), [['default', DENIED]]), `consent calls: ${JSON.stringify(consentCalls(layer))}`)
      const defaultAt = layer.findIndex((e) => Array.isArray(e) && e[1] === 'default')
      const gtmAt = layer.findIndex((e) => e.event === 'gtm.js')
      ok(defaultAt >= 0 && gtmAt > defaultAt, `default at ${defaultAt}, gtm.js at ${gtmAt}`)
      const linker = layer.find((e) => e.gaLinker)?.gaLinker
      ok(linker?.domains.includes('localhost') && linker.accept_incoming === true, `linker: ${JSON.stringify(linker)}`)
      ok(await bannerShown(page), 'the banner should show before a choice')
      // The hero's call to action is not under the banner.
      const free = await page.evaluate(() => {
        const cta = document.querySelector('main a[href$="/signup"]')
        const box = cta.getBoundingClientRect()
        const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2)
        return box.bottom <= window.innerHeight && cta.contains(top)
      })
      ok(free, 'the main call to action is covered or below the fold')
      const [reject, accept] = await Promise.all(['Reject', 'Accept'].map((name) => page.getByRole('button', { name }).boundingBox()))
      ok(Math.abs(reject.width - accept.width) < 2 && Math.abs(reject.height - accept.height) < 2, 'Accept and Reject must have the same size')
      await page.screenshot({ path: join(RESULTS, `consent-banner-${size}.png`) })
      await page.goto(server.url + '/privacy/')
      await page.screenshot({ path: join(RESULTS, `consent-banner-privacy-${size}.png`) })
    } finally {
      await done()
    }
  })
}

test('consent: Accept sends consent update granted and the GA tag event; no banner on the next page', async () => {
  const { page, done } = await open()
  try {
    await page.goto(server.url + '/')
    await page.getByRole('button', { name: 'Accept' }).click()
    const layer = await dataLayer(page)
    ok(same(consentCalls(layer).at(-1), ['update', { analytics_storage: 'granted' }]), `last: ${JSON.stringify(consentCalls(layer).at(-1))}`)
    ok(layer.at(-1).event === 'vgen_consent_granted', 'no vgen_consent_granted event after Accept')
    ok(!(await bannerShown(page)), 'the banner should close')
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('vgen_consent')))
    const days = (stored.expires - Date.now()) / 86400000
    ok(stored.choice === 'granted' && days > 180 && days < 185, `stored: ${JSON.stringify(stored)}`)
    await page.goto(server.url + '/terms/')
    const next = await dataLayer(page)
    const calls = consentCalls(next)
    ok(same(calls, [['default', DENIED], ['update', { analytics_storage: 'granted' }]]), `next page: ${JSON.stringify(calls)}`)
    const updateAt = next.findIndex((e) => Array.isArray(e) && e[1] === 'update')
    ok(updateAt < next.findIndex((e) => e.event === 'gtm.js'), 'the stored choice must be replayed before gtm.js')
    ok(!(await bannerShown(page)), 'no banner once chosen')
  } finally {
    await done()
  }
})

test('consent: Reject is denied and remembered across pages and a reload; "Cookie settings" reopens the banner', async () => {
  const { page, done } = await open(390)
  try {
    await page.goto(server.url + '/privacy/')
    await page.getByRole('button', { name: 'Reject' }).click()
    ok(same(consentCalls(await dataLayer(page)), [['default', DENIED], ['update', DENIED]]), 'Reject must send update denied')
    for (const path of ['/', '/terms/']) {
      await page.goto(server.url + path)
      ok(!(await bannerShown(page)), `${path}: banner shown again`)
      ok(same(consentCalls(await dataLayer(page)), [['default', DENIED], ['update', DENIED]]), `${path}: choice not replayed`)
    }
    await page.reload()
    ok(!(await bannerShown(page)), 'banner shown again after a reload')
    await page.getByRole('link', { name: 'Cookie settings' }).click()
    ok(await bannerShown(page), '"Cookie settings" should reopen the banner')
    ok(/rejected/.test(await page.locator('[data-consent-current]').innerText()), 'the reopened banner should say the current choice')
    await page.screenshot({ path: join(RESULTS, 'consent-banner-reopened-390.png') })
    await page.getByRole('button', { name: 'Accept' }).click()
    ok(same(consentCalls(await dataLayer(page)).at(-1), ['update', { analytics_storage: 'granted' }]), 'switching to Accept')
  } finally {
    await done()
  }
})

test('consent: an expired or malformed stored choice asks again', async () => {
  const { page, done } = await open()
  try {
    await page.goto(server.url + '/')
    for (const value of [JSON.stringify({ choice: 'denied', expires: Date.now() - 1 }), JSON.stringify({ choice: 'maybe', expires: Date.now() + 1e9 }), '{oops']) {
      await page.evaluate((v) => localStorage.setItem('vgen_consent', v), value)
      await page.reload()
      ok(await bannerShown(page), `banner hidden for ${value}`)
      ok(same(consentCalls(await dataLayer(page)), [['default', DENIED]]), `consent calls for ${value}`)
    }
  } finally {
    await done()
  }
})

test('consent: close Chromium and the server', async () => {
  await browser?.close()
  await server?.close()
  browser = server = undefined
})
