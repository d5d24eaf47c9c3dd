/**
 * At most `limit` calls of the returned function run at once; the others
 * wait in order. For work that takes a whole core each (an ffmpeg process).
 */
export function limitConcurrency(limit: number) {
  let active = 0
  const queue: (() => void)[] = []
  const release = () => {
    active--
    queue.shift()?.()
  }
  return async function run<T>(work: () => Promise<T>): Promise<T> {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve))
    active++
    try {
      return await work()
    } finally {
      release()
    }
  }
}
