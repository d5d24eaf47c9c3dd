// Headless Chromium check of the built site (dist/, built by static.test.mjs):
// screenshots of every page at phone and desktop widths, no console errors or
// CSP violations, no horizontal overflow, the category filter (with and without
// JavaScript), no video bytes before play, and a clip that plays on click.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { test, ok, noProblems } from './harness.mjs'
import { DIST, RESULTS } from './site.mjs'
import { serve } from '../scripts/serve.mjs'
import { clips, categories, categorySlug } from '../src/data/clips.ts'

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--mute-audio']
const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 } },
}
const PAGES = { home: '/', terms: '/terms/', privacy: '/privacy/', '404': '/this-page-does-not-exist/' }
const GTM_STUB = '/* GTM stub for tests */ window.__gtmLoaded = true;'

let browser
let server

async function setup() {
  if (browser) return
  ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)
  ok(existsSync(join(DIST, 'index.html')), 'dist/ is not built')
  mkdirSync(RESULTS, { recursive: true })
  server = await serve(DIST)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
}

async function teardown() {
  await browser?.close()
  await server?.close()
  browser = server = undefined
}

/** A context that stubs GTM (no internet here) and records errors and outside requests. */
async function open(kind, options = {}) {
  const context = await browser.newContext({ ...VIEWPORTS[kind], ...options })
  context.setDefaultTimeout(10000)
  const errors = []
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, async (route) => {
    const url = route.request().url()
    if (url.startsWith('https://www.googletagmanager.com/gtm.js?id=')) {
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: GTM_STUB })
    }
    errors.push(`unexpected outside request: ${url}`)
    return route.abort()
  })
  const page = await context.newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`))
  page.on('requestfailed', (req) => {
    if (req.url().startsWith(server.url)) errors.push(`failed: ${req.url()} ${req.failure()?.errorText}`)
  })
  return { context, page, errors }
}

for (const kind of Object.keys(VIEWPORTS)) {
  test(`browser (${kind}): every page renders without errors or overflow; screenshots in test-results/`, async () => {
    await setup()
    const { context, page, errors } = await open(kind)
    try {
      for (const [name, path] of Object.entries(PAGES)) {
        const seen = errors.length
        const res = await page.goto(server.url + path, { waitUntil: 'load' })
        ok(res.status() === (name === '404' ? 404 : 200), `${path}: HTTP ${res.status()}`)
        if (name === '404') {
          // Chromium logs the 404 status of the document itself; that one is expected.
          const i = errors.findIndex((e, n) => n >= seen && /status of 404/.test(e))
          if (i >= 0) errors.splice(i, 1)
        }
        await page.waitForFunction(() => window.__gtmLoaded === true, null, { timeout: 5000 }).catch(() => {
          errors.push(`${path}: GTM did not load (blocked by the CSP?)`)
        })
        const layout = await page.evaluate(() => ({
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          cta: [...document.querySelectorAll('a')].filter((a) => a.href.endsWith('/signup') && a.offsetParent !== null).length,
          headerCta: !!document.querySelector('header a[href$="/signup"]')?.getBoundingClientRect().width,
          dataLayer: Array.isArray(window.dataLayer) && window.dataLayer.some((e) => e.event === 'gtm.js'),
        }))
        if (layout.overflow > 0) errors.push(`${path}: page is ${layout.overflow}px wider than the ${kind} viewport`)
        if (!layout.headerCta) errors.push(`${path}: the header CTA is not visible`)
        if (!layout.dataLayer) errors.push(`${path}: dataLayer has no gtm.js event`)
        // Scroll through once so lazy posters load, then take the full-page shot.
        await page.evaluate(async () => {
          for (let y = 0; y < document.body.scrollHeight; y += window.innerHeight / 2) {
            window.scrollTo(0, y)
            await new Promise((r) => setTimeout(r, 40))
          }
        })
        await page.waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout: 10000 }).catch(() => {})
        await page.evaluate(() => window.scrollTo(0, 0))
        const broken = await page.$$eval('img', (imgs) => imgs.filter((i) => !i.naturalWidth).map((i) => i.src))
        if (broken.length) errors.push(`${path}: images that did not load: ${broken}`)
        await page.screenshot({ path: join(RESULTS, `${kind}-${name}.png`), fullPage: true, timeout: 45000 })
        await page.screenshot({ path: join(RESULTS, `${kind}-${name}-top.png`) })
      }
      noProblems(errors, `${kind} pages`)
    } finally {
      await context.close()
    }
  })
}

const visibleCategories = (page) =>
  page.$$eval('.clips .clip', (els) => els.filter((e) => e.offsetParent !== null).map((e) => e.dataset.category))

for (const javaScriptEnabled of [true, false]) {
  test(`browser: the category filter shows only the chosen category (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
    await setup()
    const { context, page, errors } = await open('desktop', { javaScriptEnabled })
    try {
      await page.goto(server.url + '/#examples')
      ok((await visibleCategories(page)).length === clips.length, 'all clips should show at first')
      for (const name of categories) {
        await page.click(`label[for="cat-${categorySlug(name)}"]`)
        const shown = await visibleCategories(page)
        const expected = clips.filter((c) => c.category === name).length
        ok(shown.length === expected && shown.every((c) => c === categorySlug(name)), `${name}: showed ${shown}`)
      }
      await page.click('label[for="cat-all"]')
      ok((await visibleCategories(page)).length === clips.length, '"All" should show every clip again')
      // Keyboard: arrow keys move between radios in the group.
      await page.focus('#cat-all')
      await page.keyboard.press('ArrowRight')
      ok((await visibleCategories(page)).every((c) => c === categorySlug(categories[0])), 'arrow key should select the next category')
      if (javaScriptEnabled) {
        const status = await page.textContent('[data-gallery-status]')
        ok(/Showing \d+ clips? in /.test(status ?? ''), `no live status: ${status}`)
      }
      await page.screenshot({ path: join(RESULTS, `desktop-filter-js-${javaScriptEnabled ? 'on' : 'off'}.png`) })
      noProblems(errors.filter((e) => javaScriptEnabled || !e.includes('GTM')), 'filter page')
    } finally {
      await context.close()
    }
  })
}

for (const kind of Object.keys(VIEWPORTS)) {
  test(`browser (${kind}): posters load lazily, no clip loads before play, a clip plays on click`, async () => {
    await setup()
    const { context, page, errors } = await open(kind)
    try {
      const before = server.requests.length
      await page.goto(server.url + '/')
      const posters = () => server.requests.slice(before).filter((p) => p.endsWith('.webp')).length
      ok(posters() < clips.length, `posters should load lazily, ${posters()} loaded at the top of the page`)
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
      await page.waitForTimeout(300)

      const early2 = server.requests.slice(before).filter((p) => /\.(mp4|webm)$/.test(p))
      ok(early2.length === 0, `videos requested before any play: ${early2}`)

      const card = page.locator('.clips .clip').nth(2)
      await card.scrollIntoViewIfNeeded()
      await card.locator('a.facade').click()
      const video = card.locator('video')
      ok((await video.getAttribute('preload')) === 'none' && (await video.getAttribute('poster')), 'the video needs preload="none" and a poster')
      await page.waitForFunction((v) => !v.paused && v.currentTime > 0.2, await video.elementHandle(), { timeout: 10000 })
      ok(server.requests.some((p) => p === clips[2].video), 'the clip file should load once played')
      await page.screenshot({ path: join(RESULTS, `${kind}-playing.png`) })

      // Starting another clip pauses the first.
      const second = page.locator('.clips .clip').nth(3)
      await second.scrollIntoViewIfNeeded()
      await second.locator('a.facade').click()
      await page.waitForFunction((v) => !v.paused && v.currentTime > 0.1, await second.locator('video').elementHandle(), { timeout: 10000 })
      ok(await video.evaluate((v) => v.paused), 'the first clip should pause when another starts')

      // Filtering the playing clip away pauses it.
      await page.click(`label[for="cat-${categorySlug(categories.find((c) => c !== clips[3].category))}"]`)
      ok(await second.locator('video').evaluate((v) => v.paused), 'a clip hidden by the filter should pause')
      noProblems(errors, `${kind} playback`)
    } finally {
      await context.close()
    }
  })
}

test('browser: close Chromium and the server', teardown)
