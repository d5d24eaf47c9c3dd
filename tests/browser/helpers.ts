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

/** Logs in through the login form and waits for the dashboard. */
export async function logIn(page: Page, email: string, password = 'correct horse battery') {
  await page.goto('/login')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL('**/tasks')
}

/** Desktop (1280 px) and phone (375 px) screenshots of the current page. */
export async function shootBothWidths(page: Page, name: string) {
  await page.setViewportSize({ width: 1280, height: 900 })
  await screenshot(page, `${name}-desktop`)
  await page.setViewportSize({ width: 375, height: 812 })
  await screenshot(page, `${name}-phone`)
  await page.setViewportSize({ width: 1280, height: 900 })
}
