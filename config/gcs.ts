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

/** The bucket, through one client per process (loaded only when the GCS disk is used). */
export function gcsBucket() {
  bucket ??= import('@google-cloud/storage').then(({ Storage }) =>
    new Storage(gcsOptions).bucket(gcsBucketName)
  )
  return bucket
}
