import { test } from '@japa/runner'
import { mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import mediaStorage from '#integrations/storage/media_storage'
import { StagingSweepJob, STALE_STAGING_MS } from '#jobs/staging_sweep_job'

test.group('Staging sweep', () => {
  test('removes abandoned staging files and keeps recent ones', async ({ assert }) => {
    const dir = mediaStorage.scratchDir('staging')
    await mkdir(dir, { recursive: true })
    const old = join(dir, 'sweep-test-old')
    const fresh = join(dir, 'sweep-test-fresh')
    await writeFile(old, 'abandoned')
    await writeFile(fresh, 'in progress')
    const past = new Date(Date.now() - STALE_STAGING_MS - 60_000)
    await utimes(old, past, past)
    try {
      await new StagingSweepJob().tick()
      const left = await readdir(dir)
      assert.notInclude(left, 'sweep-test-old')
      assert.include(left, 'sweep-test-fresh')
    } finally {
      await rm(fresh, { force: true })
      await rm(old, { force: true })
    }
  })
})
