// `npm test`: build + static checks, config checks, the add-a-page test, then the
// headless Chromium check. Prints "N passed, M failed" and exits non-zero on failure.
import { run } from './harness.mjs'

await import('./static.test.mjs')
await import('./config.test.mjs')
await import('./add-page.test.mjs')
if (!process.argv.includes('--no-browser')) {
  await import('./browser.test.mjs')
  await import('./consent.test.mjs')
}

// Exit explicitly so a stuck browser or server handle cannot keep the process alive.
process.exit((await run()) ? 1 : 0)
