import { createHash } from 'node:crypto'
import { Transform } from 'node:stream'
import { Exception } from '@adonisjs/core/exceptions'

/**
 * The store kept something other than what was sent (another size or
 * another MD5). The object has already been deleted; the upload service
 * turns this into a message for the uploader.
 */
export class StoredFileMismatch extends Exception {
  static status = 502
  static code = 'E_STORED_FILE_MISMATCH'

  constructor(
    readonly key: string,
    readonly detail: string
  ) {
    super(`stored object ${key} differs from what was sent: ${detail}`)
  }
}

/**
 * The store failed a put (a 5xx, a refused or dropped connection): nothing
 * usable was stored. The upload service turns this into a retryable message.
 */
export class StoreUnavailable extends Exception {
  static status = 503
  static code = 'E_STORE_UNAVAILABLE'

  constructor(
    readonly key: string,
    cause: unknown
  ) {
    super(`storing ${key} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause })
  }
}

export type Tally = ReturnType<typeof tally>

/** A pass-through that counts and hashes what flows to the store. */
export function tally() {
  const md5 = createHash('md5')
  let bytes = 0
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length
      md5.update(chunk)
      callback(null, chunk)
    },
  })
  let digest: string | null = null
  return {
    stream,
    get bytes() {
      return bytes
    },
    /** Why the stored object differs, or null. An ETag is an MD5 only for a single-part put. */
    compare(storedSize: number | undefined, etag: string | undefined) {
      if (storedSize !== bytes) return `sent ${bytes} bytes, the store has ${storedSize ?? 'none'}`
      const plain = etag?.replace(/"/g, '')
      if (plain && /^[0-9a-f]{32}$/i.test(plain)) {
        digest ??= md5.digest('hex')
        if (plain.toLowerCase() !== digest) return `sent MD5 ${digest}, the store has ${plain}`
      }
      return null
    },
  }
}
