import { test } from '@japa/runner'
import type { Page } from 'playwright'
import app from '@adonisjs/core/services/app'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media, probeDuration, probeStreams } from '#tests/helpers/media'
import { logIn, shootBothWidths, watchConsole } from '#tests/browser/helpers'
import generationConfig from '#config/generation'
import { Worker } from '#services/worker/worker'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'

/** Desktop and phone screenshots of the current page. */
const shoot = (page: Page, name: string) => shootBothWidths(page, `tasks-${name}`)

/** How many pixels of a table are cut off (behind its scroll box) on a 375 px phone. */
async function overflowOnPhone(page: Page, selector: string) {
  await page.setViewportSize({ width: 375, height: 812 })
  const hidden = await page
    .locator(selector)
    .evaluate((table) => table.parentElement!.scrollWidth - table.parentElement!.clientWidth)
  await page.setViewportSize({ width: 1280, height: 900 })
  return hidden
}

async function upload(page: Page, kind: 'video' | 'audio', file: string) {
  const slot = page.locator(`.input-slot[data-kind="${kind}"]`)
  await slot.locator('input[type="file"]').setInputFiles(file)
  /* The page's script uploads with tus (POST /uploads, then PATCH), not the multipart form. */
  const answered = page.waitForResponse(
    (response) => response.request().method() === 'PATCH' && response.url().includes('/uploads/')
  )
  await Promise.all([
    page.waitForEvent('load'),
    slot.getByRole('button', { name: `Upload ${kind}` }).click(),
  ])
  const response = await answered
  const type = response.request().headers()['content-type']
  if (type !== 'application/offset+octet-stream') throw new Error(`upload sent as ${type}`)
  if (response.status() !== 204) throw new Error(`${kind} upload answered ${response.status()}`)
  await page.locator(`.input-slot[data-kind="${kind}"] dl`).waitFor()
}

test.group('Task journey in a browser (local ffmpeg provider)', (group) => {
  freshState(group)
  let worker: Worker
  group.each.setup(async () => {
    /* The app under test runs no worker of its own (WORKER_IN_PROCESS=false in tests). */
    worker = new Worker(
      [
        new GenerationRunsJob(new LocalFfmpegProvider(), {
          ...generationConfig.worker,
          pollIntervalMs: 200,
        }),
      ],
      'browser-test-worker'
    )
    await worker.start()
    return () => worker.stop()
  })

  test('create → upload → launch → succeeded live → download → regenerate → usage shows both debits', async ({
    visit,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const page = (await visit('/login')) as unknown as Page
    const problems = watchConsole(page)
    page.on('dialog', (dialog) => dialog.accept())
    await logIn(page, user.email)

    await page.getByText('You have no tasks yet.').waitFor()
    await shoot(page, 'dashboard-empty')

    await page.getByRole('button', { name: 'New task' }).click()
    await page.waitForURL('**/tasks/new')
    await page.getByLabel('Name').fill('Beach teaser')
    await page.getByText('Lip sync · Standard').click()
    await shoot(page, 'new')
    await page.getByRole('button', { name: 'Create task' }).click()
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/)
    const taskUrl = page.url()

    await upload(page, 'video', await media('video.mp4'))
    await upload(page, 'audio', await media('audio.mp3'))
    assert.equal(await page.getByTestId('video-duration').textContent(), '2 s')
    assert.equal(await page.getByTestId('run-cost').textContent(), '100')
    await shoot(page, 'ready')

    /* Marks this page load: if the page reloaded, the mark would be gone. */
    await page.evaluate(() => ((globalThis as any).__sameDocument = true))
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Launch for 100 tokens' }).click(),
    ])
    assert.equal(await page.locator('#header-balance').textContent(), '900')
    await page.evaluate(() => ((globalThis as any).__sameDocument = true))
    await page.locator('#task-status[data-status="succeeded"]').waitFor({ timeout: 60_000 })
    assert.isTrue(
      await page.evaluate(() => (globalThis as any).__sameDocument === true),
      'updated without reload'
    )
    assert.equal(page.url(), taskUrl)
    await shoot(page, 'succeeded')

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download MP4' }).first().click(),
    ])
    assert.equal(download.suggestedFilename(), 'Beach-teaser-run-1.mp4')
    const saved = app.makePath('tmp', `browser-download-${Date.now()}.mp4`)
    await download.saveAs(saved)
    assert.sameMembers(
      (await probeStreams(saved)).map((s) => `${s.codec_type}:${s.codec_name}`),
      ['video:h264', 'audio:aac']
    )
    assert.closeTo(await probeDuration(saved), 1.5, 0.25)

    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Regenerate for 100 tokens' }).click(),
    ])
    await page.locator('#task-status[data-status="succeeded"]').waitFor({ timeout: 60_000 })
    assert.lengthOf(await page.locator('tbody tr[data-run-id]').all(), 2)
    assert.equal(await page.locator('#header-balance').textContent(), '800')
    await shoot(page, 'two-runs')
    assert.equal(await overflowOnPhone(page, '.runs-table'), 0, 'runs table fits a phone')

    await page.goto('/tasks')
    await page.getByText('Beach teaser').waitFor()
    await shoot(page, 'dashboard')
    assert.equal(await overflowOnPhone(page, '.tasks-table'), 0, 'tasks table fits a phone')

    await page.getByRole('link', { name: 'Usage', exact: true }).click()
    await page.waitForURL('**/usage')
    const usage = await page.locator('main').textContent()
    assert.include(usage, 'Task "Beach teaser" run #1')
    assert.include(usage, 'Task "Beach teaser" run #2')
    assert.deepEqual(problems, [], 'no console errors or CSP violations')
  })
})
