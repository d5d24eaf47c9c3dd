import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

export class StreamStalled extends Error {
  readonly code = 'E_STREAM_STALLED'
}

/**
 * `source` passed through, failed (both ends destroyed) when no byte comes
 * for `stallMs` while the reader is waiting for one. Time the reader spends
 * not reading (no consumer yet, paused, its buffer full) never counts: a
 * slow download is not a stall. For clients that never notice a dropped
 * connection on their own and would otherwise wait forever.
 */
export function guardStalls(source: Readable, stallMs: number, what: string): Readable {
  let lastByte = Date.now()
  const guard = new Transform({
    transform(chunk, _encoding, callback) {
      lastByte = Date.now()
      callback(null, chunk)
    },
  })
  const readerWaiting = () =>
    guard.readableFlowing === true && guard.readableLength < guard.readableHighWaterMark
  const timer = setInterval(
    () => {
      if (!readerWaiting()) {
        lastByte = Date.now()
      } else if (Date.now() - lastByte > stallMs) {
        guard.destroy(new StreamStalled(`${what}: no data for ${stallMs} ms`))
      }
    },
    Math.min(1000, Math.max(50, stallMs / 4))
  )
  timer.unref()
  pipeline(source, guard)
    .catch(() => {
      /* The reader sees the error on `guard`. */
    })
    .finally(() => clearInterval(timer))
  return guard
}
