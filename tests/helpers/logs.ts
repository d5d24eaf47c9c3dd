import logger from '@adonisjs/core/services/logger'

type Level = 'info' | 'warn' | 'error'
export type RecordedLog = { level: Level; data: Record<string, any>; message: string }

/**
 * Records what the app logs at these levels (still passing it on to the
 * real logger), for tests asserting that something was logged. Call
 * `stop()` in a finally.
 */
export function recordLogs(levels: Level[] = ['warn', 'error']) {
  const records: RecordedLog[] = []
  const target = logger as unknown as Record<Level, (...args: unknown[]) => void>
  const originals = new Map(levels.map((level) => [level, target[level]]))
  for (const level of levels) {
    target[level] = (...args: unknown[]) => {
      const [first, second] = args
      records.push(
        typeof first === 'string'
          ? { level, data: {}, message: first }
          : { level, data: (first ?? {}) as Record<string, any>, message: String(second ?? '') }
      )
      return originals.get(level)!.apply(logger, args)
    }
  }
  return {
    records,
    stop() {
      for (const [level, original] of originals) target[level] = original
    },
  }
}
