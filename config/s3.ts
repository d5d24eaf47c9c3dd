import env from '#start/env'
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'

/*
 * The S3 client settings, shared by the drive disk, ranged reads, the tus
 * store and the checks after each put.
 *
 * Checksums: by default the AWS SDK sends every streamed body as
 * `aws-chunked` with a trailing CRC. AWS decodes that; several S3-compatible
 * stores (s3rver, some gateways) store the framing inside the object, so the
 * file is silently corrupted. With a custom endpoint the default is
 * therefore `when_required` (a plain body with Content-Length);
 * `S3_CHECKSUMS` overrides it either way.
 */
const endpoint = env.get('S3_ENDPOINT') || undefined
const checksums = env.get('S3_CHECKSUMS') ?? (endpoint ? 'when_required' : 'when_supported')
const checksumMode = checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'

export const s3Bucket = env.get('S3_BUCKET') ?? ''

export const s3ClientConfig: S3ClientConfig = {
  credentials: {
    accessKeyId: env.get('S3_ACCESS_KEY_ID') ?? '',
    secretAccessKey: env.get('S3_SECRET_ACCESS_KEY') ?? '',
  },
  region: env.get('S3_REGION') || 'auto',
  endpoint,
  /* Bucket in the path: works with every compatible store (no wildcard DNS needed). */
  forcePathStyle: env.get('S3_FORCE_PATH_STYLE') ?? Boolean(endpoint),
  requestChecksumCalculation: checksumMode,
  responseChecksumValidation: checksumMode,
}

let client: S3Client | null = null

/** One client per process (its connection pool is shared). */
export function s3Client() {
  client ??= new S3Client(s3ClientConfig)
  return client
}
