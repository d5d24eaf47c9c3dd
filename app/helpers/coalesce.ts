import { Transform } from 'node:stream'

/**
 * Joins small chunks into blocks of about `blockBytes` before they reach a
 * file: a download arrives in 16–64 KB pieces, and writing each one is a
 * syscall and a promise. Memory: one block per stream.
 */
export function coalesce(blockBytes = 512 * 1024) {
  let pending: Buffer[] = []
  let size = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      pending.push(chunk)
      size += chunk.length
      if (size >= blockBytes) {
        const block = Buffer.concat(pending, size)
        pending = []
        size = 0
        return callback(null, block)
      }
      callback()
    },
    flush(callback) {
      callback(null, size ? Buffer.concat(pending, size) : undefined)
    },
  })
}
