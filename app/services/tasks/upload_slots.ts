import generationConfig from '#config/generation'

/*
 * At most `maxConcurrentPerAccount` upload bodies per account are read at
 * the same time (per process: every upload is served by the primary). A
 * slow or stalled client holds a socket and a staging file until Node's
 * request timeout; without a cap one account could hold as many as it
 * opens connections.
 */
const active = new Map<string, number>()

/** Takes a slot for `accountId`; returns its release function, or null when all are taken. */
export function takeUploadSlot(accountId: string): (() => void) | null {
  const taken = active.get(accountId) ?? 0
  if (taken >= generationConfig.uploads.maxConcurrentPerAccount) return null
  active.set(accountId, taken + 1)
  let released = false
  return () => {
    if (released) return
    released = true
    const left = (active.get(accountId) ?? 1) - 1
    if (left > 0) active.set(accountId, left)
    else active.delete(accountId)
  }
}

export const TOO_MANY_UPLOADS = `You are already uploading ${generationConfig.uploads.maxConcurrentPerAccount} files. Wait until one has finished, then try again.`
