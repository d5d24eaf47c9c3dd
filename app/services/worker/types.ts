/**
 * A unit of background work driven by the worker. `tick` does one bounded
 * batch (claim rows from the database, process them, return) and must be
 * safe to interrupt: the state lives in the database, so whatever a tick
 * leaves half-done is picked up by the next tick, here or in another process.
 */
export interface WorkerJob {
  name: string
  /** Pause between two ticks when the previous tick found nothing to do. */
  everyMs: number
  tick(signal: AbortSignal): Promise<{ didWork: boolean } | void>
  /** Optional: wait for work the job still has in flight (called once the loops ended). */
  stop?(): Promise<void>
}
