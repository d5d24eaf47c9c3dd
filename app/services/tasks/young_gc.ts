import { Transform } from 'node:stream'

type GcFunction = (options: { type: 'minor' | 'major' }) => void

/* Present only when Node runs with --expose-gc (how `npm start` and the container start the server). */
const gc = (globalThis as { gc?: GcFunction }).gc

/**
 * Frees the request-body chunks an upload has already written.
 *
 * Node copies each chunk of a request body (up to 64 KB) into a new Buffer.
 * V8 frees those only in a GC and counts them as external memory: with no
 * other trigger, every 64 MB of uploaded bytes starts a full mark-compact of
 * the whole heap (measured here: ~18 per GB, about half the server's CPU
 * for an upload). A young-generation GC (a scavenge: about a millisecond, it
 * only looks at young objects) every few MB frees the written chunks before
 * that limit is reached: 1.6–2.4 instead of 4–6 CPU-s per GB, and a third
 * of the memory. Without --expose-gc this is a no-op and uploads still work,
 * at the higher CPU cost.
 */
export function collectYoungGeneration() {
  gc?.({ type: 'minor' })
}

/* Bytes of an upload body between two young-generation GCs: written chunks die young. */
const YOUNG_GC_EVERY = 8 * 1024 * 1024

/** Call with each chunk's length while a body streams: collects the young generation every 8 MB. */
export function youngGcMeter() {
  let seen = 0
  let next = YOUNG_GC_EVERY
  return (bytes: number) => {
    seen += bytes
    if (seen < next) return
    next += YOUNG_GC_EVERY
    collectYoungGeneration()
  }
}

/** A pass-through for an upload body: `onChunk` sees each chunk, with the meter above. */
export function youngGcPassThrough(onChunk: (chunk: Buffer) => void = () => {}) {
  const meter = youngGcMeter()
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk)
      meter(chunk.length)
      callback(null, chunk)
    },
  })
}
