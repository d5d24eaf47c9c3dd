// Helpers shared by the tests: building the site, reading built pages, and the
// static checks. Each check returns a list of problems (empty = fine) so the
// add-a-page test can run the very same checks on its own build.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'node-html-parser'
import { HtmlValidate } from 'html-validate'
import { netlifyHeaderRules, resolveFile } from '../scripts/serve.mjs'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const DIST = join(ROOT, 'dist')
export const RESULTS = join(ROOT, 'test-results')

/** Runs `astro build` with Node 24 (the running node). Resolves { code, output }. */
export function build({ outDir = DIST, env = {} } = {}) {
  const astro = join(ROOT, 'node_modules', 'astro', 'bin', 'astro.mjs')
  return new Promise((ok) => {
    const child = spawn(process.execPath, [astro, 'build', '--outDir', outDir], {
      cwd: ROOT,
      env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('close', (code) => ok({ code, output }))
  })
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  )
}

/** URL path a built HTML file is served at: index.html -> /, terms/index.html -> /terms/. */
export function urlOf(dir, file) {
  const rel = relative(dir, file).split(sep).join('/')
  if (rel === 'index.html') return '/'
  if (rel.endsWith('/index.html')) return '/' + rel.slice(0, -'index.html'.length)
  return '/' + rel
}

/** Every built page: { file, url, html, doc }. */
export function loadPages(dir = DIST) {
  return walk(dir)
    .filter((f) => f.endsWith('.html'))
    .sort()
    .map((file) => {
      const html = readFileSync(file, 'utf8')
      return { file, url: urlOf(dir, file), html, doc: parse(html, { comment: false }) }
    })
}

// ---- CTA and GTM -----------------------------------------------------------

export function checkCta(page, signupUrl) {
  const links = page.doc.querySelectorAll('a[href]').filter((a) => a.getAttribute('href') === signupUrl)
  return links.length ? [] : [`${page.url}: no link to ${signupUrl}`]
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function checkGtm(page, gtmId) {
  const problems = []
  const head = page.doc.querySelector('head')
  const loader = `https://www.googletagmanager.com/gtm.js?id=${gtmId}`
  const snippet = head
    ?.querySelectorAll('script')
    .find((s) => (s.getAttribute('data-gtm-src') === loader || s.text.includes(loader)) && /\b(window|w)\.dataLayer\s*=/.test(s.text))
  if (!snippet) problems.push(`${page.url}: no GTM <script> in <head> that sets window.dataLayer and loads ${loader}`)
  const ns = new RegExp(
    `<body[^>]*>\\s*<noscript><iframe src="${escapeRe(`https://www.googletagmanager.com/ns.html?id=${gtmId}`)}"`,
  )
  if (!ns.test(page.html)) problems.push(`${page.url}: no GTM <noscript><iframe> right after <body>`)
  return problems
}

/**
 * Consent Mode: the first script in <head> is the GTM bootstrap and it sets the
 * consent default before gtm.js; every page has the banner (two buttons of equal
 * weight, no checkbox) and a "Cookie settings" link in the footer.
 */
export function checkConsent(page, consentDefault = 'denied') {
  const problems = []
  const first = page.doc.querySelector('head script')
  if (!first?.getAttribute('data-gtm-src')) problems.push(`${page.url}: the first <head> script must be the GTM bootstrap`)
  else {
    if (first.getAttribute('data-consent-default') !== consentDefault) {
      problems.push(`${page.url}: consent default should be ${consentDefault}, got ${first.getAttribute('data-consent-default')}`)
    }
    const text = first.text
    if (!(text.indexOf("'consent', 'default'") >= 0 && text.indexOf("'consent', 'default'") < text.indexOf("event: 'gtm.js'"))) {
      problems.push(`${page.url}: consent default must come before the gtm.js event`)
    }
  }
  const banner = page.doc.querySelector('[data-consent-banner]')
  const buttons = banner?.querySelectorAll('button[data-consent-choice]') ?? []
  const choices = buttons.map((b) => b.getAttribute('data-consent-choice')).sort().join(',')
  if (!banner) problems.push(`${page.url}: no cookie banner`)
  else if (choices !== 'denied,granted') problems.push(`${page.url}: the banner needs exactly Accept and Reject, got ${choices}`)
  else if (new Set(buttons.map((b) => b.getAttribute('class'))).size !== 1) problems.push(`${page.url}: Accept and Reject must look the same`)
  if (banner?.querySelector('input')) problems.push(`${page.url}: the banner must not hold inputs (no pre-ticked boxes)`)
  if (!page.doc.querySelector('footer a[data-consent-open]')) problems.push(`${page.url}: no "Cookie settings" link in the footer`)
  return problems
}

// ---- Prices ----------------------------------------------------------------

const SYMBOLS = '[$€£¥₽₴₹₩₺¢]|US\\$'
const CODES = 'USD|EUR|GBP|RUB|UAH|JPY|CNY|INR|CHF|CAD|AUD|USDT|USDC|BTC|ETH'
const NUM = '\\d[\\d,. ]*'
export const PRICE_PATTERNS = [
  new RegExp(`(?:${SYMBOLS})\\s?${NUM}`),
  new RegExp(`\\d\\s?(?:${SYMBOLS})`),
  new RegExp(`\\b(?:${CODES})\\s?${NUM}`, 'i'),
  new RegExp(`\\d\\s?(?:${CODES})\\b`, 'i'),
  new RegExp(`\\d\\s?(?:dollars?|euros?|cents?|pounds?|roubles?|rubles?)\\b`, 'i'),
  /\/\s?(?:mo|mon|month|yr|year)\b/i,
  /\b(?:per|a)\s+month\b/i,
]

/**
 * Price-like text that a legal page may contain after review, by page URL.
 * Add an exact snippet here only after reading it in context. Empty: the
 * current Terms and Privacy Policy mention no figures at all.
 */
export const REVIEWED_LEGAL_PRICE_TEXT = {
  '/terms/': [],
  '/privacy/': [],
}

/** Visible text plus human-facing attribute values (alt, title, aria-label, meta content). */
export function humanText(doc) {
  const clone = parse(doc.toString())
  for (const el of clone.querySelectorAll('script, style, noscript, template')) el.remove()
  const attrs = clone
    .querySelectorAll('[alt], [title], [aria-label], [placeholder], meta[content]')
    .flatMap((el) => ['alt', 'title', 'aria-label', 'placeholder', 'content'].map((a) => el.getAttribute(a) ?? ''))
  return [clone.structuredText, ...attrs].join('\n').replace(/&nbsp;|\u00a0/g, ' ')
}

export function findPrices(text) {
  return PRICE_PATTERNS.flatMap((re) => {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g')
    return [...text.matchAll(g)].map((m) => text.slice(Math.max(0, m.index - 30), m.index + m[0].length + 30).replace(/\s+/g, ' '))
  })
}

export function checkNoPrices(page) {
  const allowed = REVIEWED_LEGAL_PRICE_TEXT[page.url] ?? []
  const text = humanText(page.doc)
  return findPrices(text)
    .filter((hit) => !allowed.some((snippet) => hit.includes(snippet)))
    .map((hit) => `${page.url}: price-like text "…${hit}…"`)
}

// ---- Links and assets --------------------------------------------------------

const URL_ATTRS = [
  ['a', 'href'],
  ['link', 'href'],
  ['script', 'src'],
  ['img', 'src'],
  ['source', 'src'],
  ['track', 'src'],
  ['video', 'src'],
  ['video', 'poster'],
  ['iframe', 'src'],
]

/** The file a site path resolves to (Netlify pretty URLs, following the /dir -> /dir/ redirect), or null. */
export function fileFor(dir, pathname) {
  const root = resolve(dir)
  const found = resolveFile(root, pathname)
  return (found.redirect ? resolveFile(root, found.redirect).file : found.file) ?? null
}

/** Every same-site URL in href/src/poster attributes must resolve to a built file, and #fragments to an id. */
export function checkLinks(pages, dir) {
  const problems = []
  const idsCache = new Map()
  const idsOf = (file) => {
    if (!idsCache.has(file)) {
      const doc = parse(readFileSync(file, 'utf8'))
      idsCache.set(file, new Set(doc.querySelectorAll('[id]').map((e) => e.id)))
    }
    return idsCache.get(file)
  }
  for (const page of pages) {
    const base = new URL(page.url, 'http://site.invalid')
    for (const [tag, attr] of URL_ATTRS) {
      for (const el of page.doc.querySelectorAll(`${tag}[${attr}]`)) {
        const raw = el.getAttribute(attr)
        if (!raw || /^(mailto:|tel:|data:)/i.test(raw)) continue
        const url = new URL(raw, base)
        if (url.origin !== base.origin) continue
        const target = fileFor(dir, url.pathname)
        if (!target) {
          problems.push(`${page.url}: <${tag} ${attr}="${raw}"> does not resolve`)
          continue
        }
        const frag = decodeURIComponent(url.hash.slice(1))
        if (frag && target.endsWith('.html') && !idsOf(target).has(frag)) {
          problems.push(`${page.url}: <${tag} ${attr}="${raw}"> points at a missing #${frag}`)
        }
      }
    }
  }
  return problems
}

// ---- HTML validity -----------------------------------------------------------

const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // The GTM noscript iframe must be hidden inline: that is Google's snippet.
    'no-inline-style': 'off',
  },
})

export async function checkHtml(pages) {
  const problems = []
  for (const page of pages) {
    const report = await validator.validateString(page.html, page.file)
    for (const r of report.results) {
      for (const m of r.messages) problems.push(`${page.url}:${m.line}:${m.column} ${m.ruleId}: ${m.message}`)
    }
  }
  return problems
}

// ---- CSP -------------------------------------------------------------------

export function csp() {
  const all = netlifyHeaderRules().find((r) => r.for === '/*')
  return all?.values?.['Content-Security-Policy'] ?? ''
}

/** Every inline <script> must be allowed by a sha256 in netlify.toml's CSP. */
export function checkInlineScriptsAllowed(pages) {
  const policy = csp()
  const problems = []
  for (const page of pages) {
    for (const m of page.html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
      const hash = `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`
      if (!policy.includes(hash)) problems.push(`${page.url}: inline script not allowed by the CSP (add ${hash} to netlify.toml)`)
    }
  }
  return problems
}

/** Runs every per-site static check on a built directory. */
export async function checkSite(dir, { signupUrl, gtmId }) {
  const pages = loadPages(dir)
  return [
    ...pages.flatMap((p) => checkCta(p, signupUrl)),
    ...pages.flatMap((p) => checkGtm(p, gtmId)),
    ...pages.flatMap((p) => checkConsent(p)),
    ...pages.flatMap((p) => checkNoPrices(p)),
    ...checkLinks(pages, dir),
    ...checkInlineScriptsAllowed(pages),
    ...(await checkHtml(pages)),
  ]
}
