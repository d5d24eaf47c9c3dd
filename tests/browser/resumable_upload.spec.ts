import { test } from '@japa/runner'
import { stat } from 'node:fs/promises'
import type { BrowserContext, Page } from 'playwright'
import ResumableUpload from '#models/resumable_upload'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { logIn, screenshot, watchConsole } from '#tests/browser/helpers'

/*
 * The task page's resumable uploader in Chromium: the upload is slowed
 * down (DevTools network throttling) so the test can go offline half-way,
 * or reload the page, and see it continue from where it stopped.
 */

/* Upload bandwidth while throttled: a 23 MB file takes ~10 s. */
const UPLOAD_BYTES_PER_SECOND = 2.5 * 1024 * 1024

async function throttleUploads(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 5,
    downloadThroughput: -1,
    uploadThroughput: UPLOAD_BYTES_PER_SECOND,
  })
}

const videoSlot = (page: Page) => page.locator('.input-slot[data-kind="video"]')

async function progressValue(page: Page) {
  return Number(
    await videoSlot(page)
      .locator('progress')
      .evaluate((bar: { value: number }) => bar.value)
  )
}

/** Waits until the bar shows at least `percent`, and returns what it shows. */
async function progressReaches(page: Page, percent: number, timeoutMs = 60_000) {
  await until(async () => (await progressValue(page)) >= percent, timeoutMs)
  return progressValue(page)
}

/** Polls `check` (from the test, like a user watching the page) until it holds. */
async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Waits until the video slot's message matches `pattern`. */
async function messageMatches(page: Page, pattern: RegExp, timeoutMs = 30_000) {
  const message = videoSlot(page).locator('.upload-message')
  await until(async () => pattern.test(await message.innerText()), timeoutMs)
  return message.innerText()
}

async function startUpload(page: Page, file: string) {
  await videoSlot(page).locator('input[type="file"]').setInputFiles(file)
  await videoSlot(page).getByRole('button', { name: 'Upload video' }).click()
}

test.group('Resumable uploads in a browser', (group) => {
  freshState(group)

  test('progress moves; offline half-way, back online → it resumes and completes', async ({
    assert,
    visit,
    browserContext,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Big upload', model: 'restyle' })
    const file = await media('video-large.mp4')
    const size = (await stat(file)).size

    const page = await visit('/login')
    const problems = watchConsole(page)
    await logIn(page, user.email)
    await page.goto(`/tasks/${task.id}`)
    await throttleUploads(browserContext, page)
    const patches: string[] = []
    page.on('request', (request) => {
      if (request.url().includes('/uploads')) patches.push(request.method())
    })
    await startUpload(page, file)

    const early = await progressReaches(page, 5)
    const later = await progressReaches(page, 35)
    assert.isAbove(later, early)
    const stats = videoSlot(page).locator('.upload-stats')
    await stats.waitFor()
    assert.match(await stats.innerText(), /MB of .* MB · .*\/s · .* left/)
    await page.setViewportSize({ width: 390, height: 844 })
    await screenshot(page, 'resumable-upload-progress-390')
    await page.setViewportSize({ width: 1280, height: 900 })
    await screenshot(page, 'resumable-upload-progress-1280')

    await browserContext.setOffline(true)
    const message = videoSlot(page).locator('.upload-message')
    await messageMatches(page, /Connection lost/, 15_000)
    const stalled = await progressValue(page)
    await screenshot(page, 'resumable-upload-offline-1280')
    await page.waitForTimeout(1000)
    assert.equal(await progressValue(page), stalled)
    assert.match(await message.innerText(), /continues when you are back online/)

    const reloaded = page.waitForEvent('load', { timeout: 90_000 })
    await browserContext.setOffline(false)
    await reloaded
    await videoSlot(page).locator('dl').waitFor()

    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.size, size)
    assert.equal(input.originalName, 'video-large.mp4')
    /* One upload, continued: a single creation, then HEAD + PATCH after the drop. */
    assert.equal(patches.filter((method) => method === 'POST').length, 1)
    assert.include(patches, 'HEAD')
    assert.lengthOf(await ResumableUpload.all(), 0)
    assert.deepEqual(problems, [])
  }).timeout(180_000)

  test('reload mid-upload, pick the same file → it resumes from the stored offset', async ({
    assert,
    visit,
    browserContext,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Reloaded', model: 'restyle' })
    const file = await media('video-large.mp4')

    const page = await visit('/login')
    await logIn(page, user.email)
    await page.goto(`/tasks/${task.id}`)
    await throttleUploads(browserContext, page)
    await startUpload(page, file)
    await progressReaches(page, 30)

    await page.reload()
    const created: string[] = []
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/uploads'))
        created.push(request.url())
    })
    const rows = await ResumableUpload.all()
    assert.lengthOf(rows, 1)

    const done = page.waitForEvent('load', { timeout: 90_000 })
    await startUpload(page, file)
    await messageMatches(page, /resumed from (\d+)%/, 30_000)
    const text = await videoSlot(page).locator('.upload-message').innerText()
    const resumedFrom = Number(/resumed from (\d+)%/.exec(text)![1])
    assert.isAtLeast(resumedFrom, 20)
    await done
    await videoSlot(page).locator('dl').waitFor()
    assert.deepEqual(created, [])
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.size, (await stat(file)).size)
  }).timeout(180_000)

  test('pause stops sending, resume continues, cancel terminates the upload', async ({
    assert,
    visit,
    browserContext,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Paused', model: 'restyle' })
    const page = await visit('/login')
    await logIn(page, user.email)
    await page.goto(`/tasks/${task.id}`)
    await throttleUploads(browserContext, page)
    await startUpload(page, await media('video-large.mp4'))
    await progressReaches(page, 10)

    const slot = videoSlot(page)
    await slot.getByRole('button', { name: 'Pause' }).click()
    await slot.getByRole('button', { name: 'Resume' }).waitFor()
    assert.match(await slot.locator('.upload-message').innerText(), /Paused at \d+%/)
    const pausedAt = await progressValue(page)
    await page.waitForTimeout(1500)
    assert.equal(await progressValue(page), pausedAt)

    await slot.getByRole('button', { name: 'Resume' }).click()
    await progressReaches(page, pausedAt + 5)
    assert.lengthOf(await ResumableUpload.all(), 1)

    const terminated = page.waitForResponse(
      (response) => response.request().method() === 'DELETE' && response.url().includes('/uploads/')
    )
    await slot.getByRole('button', { name: 'Cancel' }).click()
    assert.equal((await terminated).status(), 204)
    await messageMatches(page, /^Upload cancelled\.$/)
    assert.isTrue(await slot.locator('progress').isHidden())
    assert.isTrue(await slot.getByRole('button', { name: 'Upload video' }).isEnabled())
    await page.waitForTimeout(100)
    assert.lengthOf(await ResumableUpload.all(), 0)
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())
  }).timeout(120_000)

  test('a file refused when it completes shows the reason on the page', async ({
    assert,
    visit,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Refused', model: 'restyle' })
    const page = await visit('/login')
    await logIn(page, user.email)
    await page.goto(`/tasks/${task.id}`)
    await startUpload(page, await media('text.mp4'))
    const message = videoSlot(page).locator('.upload-message')
    await messageMatches(page, /not a video/, 30_000)
    assert.match(await message.innerText(), /This file is not a video we can read/)
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())
    await page.setViewportSize({ width: 390, height: 844 })
    await screenshot(page, 'resumable-upload-refused-390')
    await page.setViewportSize({ width: 1280, height: 900 })
  }).timeout(60_000)
})
