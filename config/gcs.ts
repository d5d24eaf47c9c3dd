import env from '#start/env'
import type { Bucket, StorageOptions } from '@google-cloud/storage'

/*
 * Google Cloud Storage settings, shared by the drive disk (flydrive's GCS
 * driver) and media storage's ranged reads and checks after each put.
 *
 * `GCS_API_ENDPOINT` points the client at another JSON API host (a local
 * emulator, a private endpoint). Unset = real GCS. With a custom endpoint
 * the client sends no OAuth token (it never asks Google for one); signed
 * URLs are still signed locally with the key in `GCS_KEY`.
 */
export const gcsBucketName = env.get('GCS_BUCKET') ?? ''

export const gcsOptions: StorageOptions = {
  keyFilename: env.get('GCS_KEY') || undefined,
  apiEndpoint: env.get('GCS_API_ENDPOINT') || undefined,
}

let bucket: Promise<Bucket> | null = null

/**
 * The bucket for media storage's own calls, through one client per process
 * (loaded only when the GCS disk is used). Retries always: by default the
 * client retries an upload only with an `ifGenerationMatch` precondition;
 * ours go to fresh keys, and a resumable chunk resent after a 5xx resumes
 * the same session at the offset GCS reports (a streamed one-request
 * upload is never replayed either way).
 */
export function gcsBucket() {
  bucket ??= import('@google-cloud/storage').then(({ Storage, IdempotencyStrategy }) =>
    new Storage({
      ...gcsOptions,
      retryOptions: { idempotencyStrategy: IdempotencyStrategy.RetryAlways },
    }).bucket(gcsBucketName)
  )
  return bucket
}
