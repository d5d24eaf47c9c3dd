import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, ok, noProblems } from './harness.mjs'
import { build, checkConsent, checkInlineScriptsAllowed, loadPages } from './site.mjs'
import { DEFAULTS, loadConfig } from '../src/lib/config.ts'

const throws = (fn, re) => {
  try {
    fn()
  } catch (err) {
    ok(re.test(err.message), `wrong error: ${err.message}`)
    return
  }
  throw new Error('expected an error')
}

test('config: sane defaults for local builds, trailing slashes trimmed', () => {
  const c = loadConfig({})
  ok(c.appUrl === DEFAULTS.APP_URL && c.signupUrl === 'http://localhost:3333/signup', 'APP_URL default')
  ok(c.gtmId === 'GTM-XXXXXXX', 'GTM_ID default')
  ok(c.telegramSupportUrl === 'https://t.me/vgen_support_bot', 'TELEGRAM_SUPPORT_URL default')
  const d = loadConfig({ APP_URL: 'https://app.vgen.com/', GTM_ID: 'gtm-ab12cd', TELEGRAM_SUPPORT_URL: 'https://t.me/other_bot' })
  ok(d.signupUrl === 'https://app.vgen.com/signup', `got ${d.signupUrl}`)
  ok(d.gtmId === 'GTM-AB12CD', `got ${d.gtmId}`)
})

test('config: rejects malformed values instead of baking them into HTML', () => {
  throws(() => loadConfig({ GTM_ID: 'GTM-1"><script>alert(1)</script>' }), /GTM_ID/)
  throws(() => loadConfig({ GTM_ID: 'UA-12345' }), /GTM_ID/)
  throws(() => loadConfig({ APP_URL: 'javascript:alert(1)' }), /APP_URL/)
  throws(() => loadConfig({ APP_URL: 'app.vgen.com' }), /APP_URL/)
  throws(() => loadConfig({ APP_URL: 'https://user:pw@app.vgen.com' }), /APP_URL/)
  throws(() => loadConfig({ APP_URL: 'https://app.vgen.com/?x=1' }), /APP_URL/)
  throws(() => loadConfig({ TELEGRAM_SUPPORT_URL: 'http://t.me/bot' }), /TELEGRAM_SUPPORT_URL/)
  throws(() => loadConfig({ CONSENT_DEFAULT: 'yes' }), /CONSENT_DEFAULT/)
})

test('config: CONSENT_DEFAULT is denied unless the build says granted; the app host is linked', () => {
  ok(loadConfig({}).consentDefault === 'denied', 'default must be denied')
  ok(loadConfig({ CONSENT_DEFAULT: 'Granted' }).consentDefault === 'granted', 'granted (any case)')
  ok(loadConfig({ APP_URL: 'https://www.app.example.com' }).appHost === 'app.example.com', 'app host without www.')
})

test('config: a CONSENT_DEFAULT=granted build keeps the same inline script (one CSP hash) and says so in the Privacy Policy', async () => {
  const out = mkdtempSync(join(tmpdir(), 'vgen-landing-granted-'))
  try {
    const { code, output } = await build({ outDir: out, env: { CONSENT_DEFAULT: 'granted', APP_URL: '', GTM_ID: '', CONTEXT: '' } })
    ok(code === 0, `build failed:\n${output.slice(-2000)}`)
    const pages = loadPages(out)
    noProblems(pages.flatMap((p) => checkConsent(p, 'granted')), 'consent (granted)')
    noProblems(checkInlineScriptsAllowed(pages), 'CSP')
    const privacy = pages.find((p) => p.url === '/privacy/').doc.querySelector('#cookies').parentNode.text
    ok(/defaults: granted/.test(privacy.replace(/\s+/g, ' ')), 'the policy must describe the granted default')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('config: a Netlify production build without APP_URL and GTM_ID fails', async () => {
  throws(() => loadConfig({ CONTEXT: 'production' }), /APP_URL and GTM_ID/)
  const out = mkdtempSync(join(tmpdir(), 'vgen-landing-prod-'))
  try {
    const { code, output } = await build({ outDir: out, env: { CONTEXT: 'production', APP_URL: '', GTM_ID: '' } })
    ok(code !== 0, 'the build should have failed')
    ok(/APP_URL and GTM_ID/.test(output), `unexpected output:\n${output.slice(-2000)}`)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
