import logger from '@adonisjs/core/services/logger'
import { resumableUploads } from '#services/uploads/resumable_uploads'
import type { WorkerJob } from '#services/worker/types'

/**
 * Removes resumable (tus) uploads that were never finished within 24 h of
 * their creation: the bytes in the tus store (a folder, or the bucket's
 * multipart upload) and the row. The protocol already answers 410 for them.
 */
export class ResumableUploadsSweepJob implements WorkerJob {
  name = 'resumable-uploads-sweep'
  everyMs = 10 * 60 * 1000

  async tick() {
    const removed = await (await resumableUploads()).sweepExpired()
    if (removed > 0) logger.info({ removed }, 'removed expired resumable uploads')
    /* A full batch may have left more behind: come back at once. */
    return { didWork: removed >= 200 }
  }
}
