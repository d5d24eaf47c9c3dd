import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

type GcFunction = (options: { type: 'minor' | 'major' }) => void

let gc: GcFunction | null | undefined

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
 * of the memory. (Some uploads still see V8 start full GCs every ~25 MB,
 * apparently after the heap was shrunk while idle; those cost what they
 * did before.) V8's `gc` function is fetched once from a fresh
 * context (the documented `--expose-gc` + `vm` pattern); it is not exposed
 * to the app's own globals.
 */
export function collectYoungGeneration() {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      const found: unknown = runInNewContext('typeof gc === "function" ? gc : null')
      gc = (found as GcFunction | null) ?? null
    } catch {
      gc = null
    }
  }
  gc?.({ type: 'minor' })
}
