// Proves that adding a page is adding one file: a throwaway .astro page and a
// throwaway .md page that use the layout are built with custom settings, and
// the whole site (including them) passes the same static checks.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, noProblems, ok } from './harness.mjs'
import { ROOT, build, checkSite, loadPages, checkCta, checkGtm } from './site.mjs'

const env = {
  APP_URL: 'https://app.example.test',
  GTM_ID: 'GTM-TEST123',
  TELEGRAM_SUPPORT_URL: 'https://t.me/example_support_bot',
}
const signupUrl = 'https://app.example.test/signup'

test('a new page under src/pages that uses the layout builds with CTA and GTM, and the site still passes every check', async () => {
  const slug = `zz-throwaway-${process.pid}`
  const astroPage = join(ROOT, 'src', 'pages', `${slug}.astro`)
  const mdPage = join(ROOT, 'src', 'pages', `${slug}-md.md`)
  const out = mkdtempSync(join(tmpdir(), 'vgen-landing-page-'))
  writeFileSync(
    astroPage,
    `---
import Base from '../layouts/Base.astro'
---
<Base title="Throwaway page" description="A page added by the test suite to prove that adding pages keeps the site valid." prose>
  <h1>Throwaway page</h1>
  <p>Made by tests/add-page.test.mjs and removed right after the build. See the <a href="/terms/">terms</a>.</p>
</Base>
`,
  )
  writeFileSync(
    mdPage,
    `---
layout: ../layouts/Base.astro
title: Throwaway Markdown page
description: A Markdown page added by the test suite to prove that Markdown pages get the layout too.
---

# Throwaway Markdown page

Written in **Markdown**. Back to the [product page](/#examples).
`,
  )
  try {
    const { code, output } = await build({ outDir: out, env })
    ok(code === 0, `build failed:\n${output}`)
    const pages = loadPages(out)
    for (const url of [`/${slug}/`, `/${slug}-md/`]) {
      const page = pages.find((p) => p.url === url)
      ok(page, `${url} was not built (got ${pages.map((p) => p.url)})`)
      noProblems([...checkCta(page, signupUrl), ...checkGtm(page, env.GTM_ID)], url)
      ok(page.doc.querySelector('header .brand') && page.doc.querySelector('footer a[href="/privacy/"]'), `${url} lacks the layout`)
      ok(page.doc.querySelector('a[href="https://t.me/example_support_bot"]'), `${url}: TELEGRAM_SUPPORT_URL not applied`)
    }
    noProblems(await checkSite(out, { signupUrl, gtmId: env.GTM_ID }), 'site with the new pages')
  } finally {
    rmSync(astroPage, { force: true })
    rmSync(mdPage, { force: true })
    rmSync(out, { recursive: true, force: true })
  }
  ok(!existsSync(astroPage) && !existsSync(mdPage), 'throwaway pages were not cleaned up')
})
