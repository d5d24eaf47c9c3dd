import { readdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import logger from '@adonisjs/core/services/logger'
import mediaStorage from '#integrations/storage/media_storage'
import type { WorkerJob } from '#services/worker/types'

/* An upload streams for minutes at most; a staging file untouched this long was abandoned. */
export const STALE_STAGING_MS = 6 * 3600 * 1000

/**
 * Removes staged upload files that a killed or crashed process left behind
 * (a finished or refused upload removes its own).
 */
export class StagingSweepJob implements WorkerJob {
  name = 'staging-sweep'
  everyMs = 10 * 60 * 1000

  async tick() {
    const dir = mediaStorage.scratchDir('staging')
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      return { didWork: false }
    }
    const cutoff = Date.now() - STALE_STAGING_MS
    let removed = 0
    for (const name of names) {
      const path = join(dir, name)
      try {
        if ((await stat(path)).mtimeMs < cutoff) {
          await unlink(path)
          removed += 1
        }
      } catch {
        // Gone already (finished or swept by another process).
      }
    }
    if (removed > 0) logger.info({ removed }, 'removed abandoned staging files')
    return { didWork: false }
  }
}
