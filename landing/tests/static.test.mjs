import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { test, noProblems, ok } from './harness.mjs'
import {
  DIST, ROOT, build, loadPages, checkCta, checkGtm, checkConsent, checkNoPrices, findPrices, checkLinks, checkHtml,
  checkInlineScriptsAllowed, csp, fileFor,
} from './site.mjs'
import { NETLIFY_TOML } from '../scripts/serve.mjs'
import { DEFAULTS, loadConfig } from '../src/lib/config.ts'
import { clips, categories } from '../src/data/clips.ts'

// The default local build: no APP_URL/GTM_ID/TELEGRAM_SUPPORT_URL in the environment.
const defaults = loadConfig({})
const pages = () => loadPages(DIST)
const page = (url) => {
  const p = pages().find((x) => x.url === url)
  ok(p, `page ${url} was not built`)
  return p
}
const CLEAN_ENV = { APP_URL: '', GTM_ID: '', TELEGRAM_SUPPORT_URL: '', CONTEXT: '' }

test('build succeeds with the default local config', async () => {
  const { code, output } = await build({ env: CLEAN_ENV })
  ok(code === 0, `astro build exited with ${code}:\n${output}`)
})

test('the product page, Terms, Privacy and 404 are built', () => {
  const urls = pages().map((p) => p.url)
  for (const url of ['/', '/terms/', '/privacy/', '/404.html']) ok(urls.includes(url), `missing ${url} in ${urls}`)
})

test(`every page has a CTA link to ${defaults.signupUrl}`, () => {
  noProblems(pages().flatMap((p) => checkCta(p, defaults.signupUrl)), 'missing CTA')
})

test(`every page has the GTM snippet for ${DEFAULTS.GTM_ID} (head script + noscript iframe)`, () => {
  noProblems(pages().flatMap((p) => checkGtm(p, DEFAULTS.GTM_ID)), 'missing GTM')
})

test('every page sets the Consent Mode default before GTM and has the banner and "Cookie settings"', () => {
  noProblems(pages().flatMap((p) => checkConsent(p, 'denied')), 'consent')
})

test('the Privacy Policy says what the banner and GA do (default denied, 6 months, user id not email)', () => {
  const text = page('/privacy/').doc.querySelector('#cookies')?.parentNode.text.replace(/\s+/g, ' ') ?? ''
  for (const phrase of ['Google Tag Manager', 'Google Analytics', 'denied', '6 months', 'Cookie settings', 'account id', 'never give Google Analytics or Tag Manager your email']) {
    ok(text.includes(phrase), `privacy policy section 4 does not say "${phrase}"`)
  }
})

test('the price check finds currency amounts and "/mo" (self-test)', () => {
  const samples = ['only $9.99', '10 USD', 'EUR 25', '€5', '19,99 €', '12 dollars', 'from 5/mo', 'billed per month', '0.5 USDT']
  for (const s of samples) ok(findPrices(s).length > 0, `not caught: ${s}`)
  for (const s of ['30 seconds', 'step 3', 'episode twelve', 'Tokens are bought in the app', 'USD and EUR']) {
    ok(findPrices(s).length === 0, `false positive: ${s}`)
  }
})

test('no built page shows a price', () => {
  noProblems(pages().flatMap(checkNoPrices), 'prices found')
})

test('all internal links, anchors and assets resolve', () => {
  noProblems(checkLinks(pages(), DIST), 'broken links')
})

test('the HTML validates (html-validate:recommended)', async () => {
  noProblems(await checkHtml(pages()), 'html-validate')
})

test('every inline script is allowed by a CSP hash in netlify.toml', () => {
  noProblems(checkInlineScriptsAllowed(pages()), 'CSP')
})

test('netlify.toml: base, build command, publish dir, security and cache headers', () => {
  const conf = parseToml(readFileSync(NETLIFY_TOML, 'utf8'))
  ok(conf.build.base.replace(/\/$/, '') === 'landing', 'build.base must be landing/')
  ok(/npm run build|astro build/.test(conf.build.command), 'build.command must build the site')
  ok(conf.build.publish.replace(/\/$/, '') === 'dist', 'publish must be dist (relative to base)')
  const all = conf.headers.find((h) => h.for === '/*')?.values ?? {}
  ok(/max-age=\d{7,}/.test(all['Strict-Transport-Security'] ?? ''), 'HSTS missing')
  ok(all['X-Content-Type-Options'] === 'nosniff', 'nosniff missing')
  ok(all['Referrer-Policy'], 'Referrer-Policy missing')
  const policy = csp()
  ok(/script-src[^;]*https:\/\/www\.googletagmanager\.com/.test(policy), 'CSP script-src must allow GTM')
  ok(/frame-src[^;]*https:\/\/www\.googletagmanager\.com/.test(policy), 'CSP frame-src must allow the GTM noscript iframe')
  ok(/connect-src[^;]*google-analytics\.com/.test(policy), 'CSP connect-src must allow GA')
  ok(!/script-src[^;]*'unsafe-inline'/.test(policy), "CSP script-src must not use 'unsafe-inline'")
  ok(/frame-ancestors 'none'/.test(policy) && /object-src 'none'/.test(policy), 'CSP must forbid framing and plugins')
  const astro = conf.headers.find((h) => h.for === '/_astro/*')?.values ?? {}
  ok(/max-age=31536000/.test(astro['Cache-Control'] ?? '') && /immutable/.test(astro['Cache-Control']), 'long immutable cache for /_astro/*')
})

test('clips data: 5–10 clips in several categories, small files that exist', () => {
  ok(clips.length >= 5 && clips.length <= 10, `expected 5–10 clips, got ${clips.length}`)
  ok(categories.length >= 3, `expected at least 3 categories, got ${categories.length}`)
  const problems = []
  for (const c of clips) {
    for (const key of ['title', 'category', 'video', 'poster']) if (!c[key]) problems.push(`${c.title}: no ${key}`)
    for (const key of ['video', 'poster', 'captions']) {
      if (!c[key] || /^https?:/.test(c[key])) continue
      const file = join(ROOT, 'public', c[key])
      if (!existsSync(file)) problems.push(`${c.title}: ${c[key]} missing`)
      else if (statSync(file).size > 400 * 1024) problems.push(`${c.title}: ${c[key]} is over 400 KB`)
    }
  }
  noProblems(problems, 'clips')
})

test('product page: every clip is a lazy poster linking to its video, grouped by a category filter', () => {
  const doc = page('/').doc
  ok(doc.querySelectorAll('video').length === 0, 'no <video> should be in the initial HTML (created on play)')
  const facades = doc.querySelectorAll('.clips a.facade')
  ok(facades.length === clips.length, `expected ${clips.length} clips, got ${facades.length}`)
  facades.forEach((a, i) => {
    const clip = clips[i]
    ok(a.getAttribute('href') === clip.video && a.getAttribute('data-video') === clip.video, `${clip.title}: link to the video`)
    const img = a.querySelector('img')
    ok(img?.getAttribute('src') === clip.poster && a.getAttribute('data-poster') === clip.poster, `${clip.title}: poster`)
    ok(img.getAttribute('loading') === 'lazy' && img.getAttribute('width') && img.getAttribute('height'), `${clip.title}: poster must be lazy and sized`)
    ok(/Play sample clip: /.test(a.text), `${clip.title}: accessible name`)
  })
  const radios = doc.querySelectorAll('input[name="clip-category"]')
  ok(radios.length === categories.length + 1, `expected ${categories.length + 1} filter options, got ${radios.length}`)
  const head = doc.querySelector('head').toString()
  for (const r of radios.slice(1)) ok(head.includes(`#${r.id}:checked`), `no filter rule for ${r.id}`)
})

test('Telegram support link on every page, and no price figures in the pricing section', () => {
  const problems = pages()
    .filter((p) => !p.doc.querySelectorAll('a').some((a) => a.getAttribute('href') === defaults.telegramSupportUrl))
    .map((p) => `${p.url}: no link to ${defaults.telegramSupportUrl}`)
  noProblems(problems, 'Telegram')
  const pricing = page('/').doc.querySelector('#pricing')
  ok(pricing && /inside the app/i.test(pricing.text) && /affordable/i.test(pricing.text), 'pricing must say tokens are bought in the app and that it is affordable')
  ok(!/\d/.test(pricing.text), 'the pricing section must contain no figures at all')
})

test('every page has its own <title> and meta description', () => {
  const seen = new Set()
  const problems = []
  for (const p of pages()) {
    const title = p.doc.querySelector('title')?.text.trim()
    const desc = p.doc.querySelector('meta[name="description"]')?.getAttribute('content')
    if (!title || seen.has(title)) problems.push(`${p.url}: missing or duplicate title`)
    if (!desc || desc.length < 50) problems.push(`${p.url}: missing or short description`)
    seen.add(title)
  }
  noProblems(problems, 'titles')
})

test('the 404 page is served for unknown paths by the Netlify-like resolver', () => {
  ok(fileFor(DIST, '/terms') && fileFor(DIST, '/terms/'), '/terms must resolve')
  ok(!fileFor(DIST, '/no-such-page/'), 'unknown pages must not resolve')
  ok(existsSync(join(DIST, '404.html')), 'Netlify serves dist/404.html for unknown paths')
})
