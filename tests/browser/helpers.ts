import { mkdir } from 'node:fs/promises'
import type { Page } from 'playwright'
import app from '@adonisjs/core/services/app'

export const screenshotsDir = app.makePath('tmp', 'screenshots')

/** Saves a full-page screenshot under tmp/screenshots (to look at, not to diff). */
export async function screenshot(page: Page, name: string) {
  await mkdir(screenshotsDir, { recursive: true })
  await page.screenshot({ path: `${screenshotsDir}/${name}.png`, fullPage: true })
}

/** Fails the test on any console error or CSP violation on the page. */
export function watchConsole(page: Page) {
  const problems: string[] = []
  page.on('console', (message) => {
    // Google Tag Manager cannot be reached from the test machine (no internet).
    if (
      message.type() === 'error' &&
      !/ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/.test(message.text())
    ) {
      problems.push(message.text())
    }
  })
  page.on('pageerror', (error) => problems.push(error.message))
  return problems
}
