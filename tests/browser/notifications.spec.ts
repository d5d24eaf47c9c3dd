import { test } from '@japa/runner'
import type { Browser, Page } from 'playwright'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { logIn, screenshot, watchConsole } from '#tests/browser/helpers'
import { seededTask } from '#tests/functional/tasks/helpers'
import generationConfig from '#config/generation'
import { Worker } from '#services/worker/worker'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { MailOutboxJob } from '#jobs/mail_outbox_job'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'

const PASSWORD = 'correct horse battery'
const baseURL = () => `http://${process.env.HOST}:${process.env.PORT}`

/** Screenshots at 390 and 1280 px, and the page's sideways overflow at 390 px (should be 0). */
async function shoot(page: Page, name: string) {
  await page.setViewportSize({ width: 390, height: 844 })
  const overflow = await page
    .locator('html')
    .evaluate((html: any) => html.scrollWidth - html.clientWidth)
  await screenshot(page, `${name}-390`)
  await page.setViewportSize({ width: 1280, height: 900 })
  await screenshot(page, `${name}-1280`)
  return overflow
}

/** Opens the newest mail with `subject` in the dev mailbox; waits for the worker to send it. */
async function openMail(page: Page, subject: string) {
  for (let attempt = 0; attempt < 60; attempt++) {
    await page.goto('/dev/mailbox')
    const link = page.getByRole('link', { name: subject }).first()
    if (await link.count()) {
      await link.click()
      await page.locator('iframe.mail-html').waitFor()
      return
    }
    await page.waitForTimeout(250)
  }
  throw new Error(`no mail "${subject}" in the dev mailbox`)
}

/** Sideways overflow inside the mail's frame at the current width. */
async function mailOverflow(page: Page) {
  const frame = page.frameLocator('iframe.mail-html')
  await frame.locator('body').waitFor()
  return frame.locator('html').evaluate((html: any) => html.scrollWidth - html.clientWidth)
}

/** Answers the cookie banner so it does not cover the screenshots. */
async function dismissConsent(page: Page) {
  const reject = page.locator('[data-consent-banner]').getByRole('button', { name: 'Reject' })
  if (await reject.isVisible()) await reject.click()
}

async function secondSession(browser: Browser, email: string) {
  const context = await browser.newContext({ baseURL: baseURL() })
  const page = await context.newPage()
  await logIn(page, email)
  return { context, page }
}

test.group('Notifications, receipts and the account page in a browser', (group) => {
  freshState(group)
  let worker: Worker
  group.each.setup(async () => {
    worker = new Worker(
      [
        new GenerationRunsJob(new LocalFfmpegProvider(), {
          ...generationConfig.worker,
          pollIntervalMs: 200,
        }),
        new MailOutboxJob(),
      ],
      'browser-test-worker'
    )
    await worker.start()
    return () => worker.stop()
  })

  test('launch → the result plays on the page → the mail arrives with a working link', async ({
    visit,
    assert,
  }) => {
    const user = await createUser({ balance: 1000, email: 'player@example.com' })
    const task = await seededTask(user, 'lipsync', 'Sunset <teaser>')
    const page = (await visit('/login')) as unknown as Page
    const problems = watchConsole(page)
    page.on('dialog', (dialog) => dialog.accept())
    await logIn(page, user.email)
    await dismissConsent(page)

    await page.goto(`/tasks/${task.id}`)
    await page.getByRole('button', { name: /^Launch for/ }).click()
    const video = page.locator('video[data-testid="result-video"]')
    await video.waitFor({ timeout: 60_000 })
    assert.equal(await video.getAttribute('preload'), 'none')
    assert.match((await video.getAttribute('poster')) ?? '', /\/poster$/)
    /* It really plays: the browser fetches it (Range) and the clock moves. */
    /* Typed loosely: the tests compile without the DOM library. */
    const played = await video.evaluate(async (element: any) => {
      element.muted = true
      await element.play()
      await new Promise((resolve) => setTimeout(resolve, 700))
      return {
        time: element.currentTime,
        duration: element.duration,
        error: element.error?.code ?? null,
      }
    })
    assert.isNull(played.error)
    assert.isAbove(played.time, 0)
    assert.closeTo(played.duration, 1.5, 0.3)
    await page.reload()
    assert.equal(await shoot(page, 'h11-task-player'), 0)
    /* Times are shown in the visitor's zone by the inline script. */
    assert.isAbove(await page.locator('time[data-localized]').count(), 0)

    await page.goto('/tasks')
    await page.locator('img.task-poster').waitFor()
    assert.equal(await page.locator('img.task-poster').getAttribute('loading'), 'lazy')
    assert.equal(await shoot(page, 'h11-task-list'), 0)

    await openMail(page, 'Your clip “Sunset <teaser>” is ready')
    await page.setViewportSize({ width: 390, height: 844 })
    assert.equal(await mailOverflow(page), 0, 'the mail fits 390 px')
    assert.equal(await shoot(page, 'h11-mail-run-succeeded'), 0)
    await page
      .getByRole('link', { name: `${baseURL()}/tasks/${task.id}` })
      .first()
      .click()
    await page.waitForURL(`**/tasks/${task.id}`)
    await page.locator('video[data-testid="result-video"]').waitFor()
    assert.deepEqual(problems, [])
  })

  test('buy a pack → receipt mail and printable receipt page', async ({ visit, assert }) => {
    const user = await createUser({ balance: 0, email: 'buyer@example.com' })
    const page = (await visit('/login')) as unknown as Page
    const problems = watchConsole(page)
    await logIn(page, user.email)
    await dismissConsent(page)
    await page.goto('/tokens')
    await page.getByRole('button', { name: 'Buy small' }).click()
    await page.getByRole('button', { name: /^Pay / }).click()
    await page.getByText('Payment received').waitFor()

    await openMail(page, 'Your vgen receipt: 10,000 tokens')
    const frame = page.frameLocator('iframe.mail-html')
    await frame.getByText('Balance after').waitFor()
    await page.setViewportSize({ width: 390, height: 844 })
    assert.equal(await mailOverflow(page), 0)
    assert.equal(await shoot(page, 'h11-mail-receipt'), 0)

    await page.goto('/tokens')
    await page.getByRole('link', { name: 'Receipt' }).click()
    await page.getByText('It is not a tax invoice').waitFor()
    await page.getByText('10,000 tokens').first().waitFor()
    assert.equal(await shoot(page, 'h11-receipt'), 0)
    await page.emulateMedia({ media: 'print' })
    assert.isFalse(await page.locator('.app-header').isVisible())
    await screenshot(page, 'h11-receipt-print')
    await page.emulateMedia({ media: 'screen' })
    assert.deepEqual(problems, [])
  })

  test('change the password on /account → another session is signed out; delete → cannot log in', async ({
    visit,
    browser,
    assert,
  }) => {
    const user = await createUser({ balance: 500, email: 'owner@example.com', password: PASSWORD })
    const page = (await visit('/login')) as unknown as Page
    const problems = watchConsole(page)
    page.on('dialog', (dialog) => dialog.accept())
    await logIn(page, user.email)
    await dismissConsent(page)
    const other = await secondSession(browser as unknown as Browser, user.email)

    await page.getByRole('link', { name: 'Account', exact: true }).first().click()
    await page.waitForURL('**/account')
    assert.equal(await shoot(page, 'h11-account'), 0)

    await page.getByLabel('Current password').fill('not my password')
    await page.getByLabel('New password', { exact: true }).fill('a brand new password')
    await page.getByLabel('Repeat the new password').fill('a brand new password')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Your current password is not correct. Nothing was changed.').waitFor()
    await other.page.goto('/tasks')
    assert.isTrue(other.page.url().endsWith('/tasks'), 'a refused change ends nothing')

    await page.getByLabel('Current password').fill(PASSWORD)
    await page.getByLabel('New password', { exact: true }).fill('a brand new password')
    await page.getByLabel('Repeat the new password').fill('a brand new password')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Your password was changed.').waitFor()
    await other.page.goto('/tasks')
    await other.page.waitForURL('**/login')
    await page.goto('/tasks')
    assert.isTrue(page.url().endsWith('/tasks'), 'this session stays')
    await openMail(page, 'Your vgen password was changed')

    await page.goto('/account')
    await page.locator('#delete-form').getByLabel('Your password').fill('a brand new password')
    await page.getByRole('button', { name: 'Delete my account' }).click()
    await page.getByText('Your account was deleted.').waitFor()
    await page.goto('/login')
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill('a brand new password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('Invalid email or password.').waitFor()
    await openMail(page, 'Your vgen account was deleted')
    assert.equal(await shoot(page, 'h11-mail-deleted'), 0)
    await other.context.close()
    assert.deepEqual(problems, [])
  })
})
