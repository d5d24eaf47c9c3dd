import env from '#start/env'
import type { Bucket, IdempotencyStrategy, StorageOptions } from '@google-cloud/storage'

/*
 * Google Cloud Storage settings, shared by the drive disk (flydrive's GCS
 * driver) and media storage's own calls (puts, ranged reads, the check
 * after each put).
 *
 * `GCS_API_ENDPOINT` points the client at another JSON API host (a local
 * emulator, a private endpoint). Unset = real GCS. With a custom endpoint
 * the client sends no OAuth token (it never asks Google for one); signed
 * URLs are still signed locally with the key in `GCS_KEY`.
 *
 * Retries always (0 = IdempotencyStrategy.RetryAlways; a type-only import
 * keeps the client unloaded until the disk is used). By default the client
 * retries a delete or an upload only with an `ifGenerationMatch`
 * precondition: a 503 on a delete would leave a deleted task's or
 * account's file in the bucket. Our uploads go to fresh keys, a resumable
 * chunk resent after a 5xx resumes the same session at the offset GCS
 * reports, and a streamed one-request upload is never replayed either way.
 */
export const gcsBucketName = env.get('GCS_BUCKET') ?? ''

export const gcsOptions: StorageOptions = {
  keyFilename: env.get('GCS_KEY') || undefined,
  apiEndpoint: env.get('GCS_API_ENDPOINT') || undefined,
  retryOptions: { idempotencyStrategy: 0 as IdempotencyStrategy },
}

/*
 * A read that gets no byte for this long while its reader waits is failed.
 * The client (node-fetch 2 underneath) never notices a connection dropped
 * mid-body: without this, a download or a worker's input copy would hang.
 */
export const gcsReadStallMs = (env.get('GCS_READ_STALL_SECONDS') ?? 30) * 1000

let bucket: Promise<Bucket> | null = null

/** The bucket for media storage's own calls, through one client per process (loaded on first use). */
export function gcsBucket() {
  bucket ??= import('@google-cloud/storage').then(({ Storage }) =>
    new Storage(gcsOptions).bucket(gcsBucketName)
  )
  return bucket
}
