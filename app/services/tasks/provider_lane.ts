import generationConfig from '#config/generation'

/**
 * The worker's limits for one provider: at most `concurrency` steps in
 * flight, submits from a token bucket (`perMinute`, bursts of a tenth of a
 * minute's worth), and a pause after a 429's Retry-After. In memory: only
 * one worker process holds the lease at a time.
 */
export class ProviderLane {
  active = 0
  private pausedUntil = 0
  private tokens: number
  private refilledAt = Date.now()
  private knownHealthy = false

  constructor(
    public concurrency: number,
    private perMinute: number | null
  ) {
    this.tokens = this.capacity
  }

  static forProvider(name: string, concurrency: number) {
    switch (name) {
      case 'sync':
        return new ProviderLane(concurrency, generationConfig.sync.submitsPerMinute)
      case 'replicate':
        return new ProviderLane(concurrency, generationConfig.replicate.submitsPerMinute)
      case 'fal':
        return new ProviderLane(concurrency, generationConfig.fal.submitsPerMinute)
      default:
        /* local: the ffmpeg renders are capped inside the provider; http: no published limit. */
        return new ProviderLane(concurrency, null)
    }
  }

  private get capacity() {
    return this.perMinute ? Math.max(1, Math.ceil(this.perMinute / 6)) : Number.POSITIVE_INFINITY
  }

  private refill(now: number) {
    if (!this.perMinute) return
    const earned = ((now - this.refilledAt) / 60_000) * this.perMinute
    this.tokens = Math.min(this.capacity, this.tokens + earned)
    this.refilledAt = now
  }

  /** Steps that may start now. */
  free(now: number) {
    if (now < this.pausedUntil) return 0
    return Math.max(0, this.concurrency - this.active)
  }

  canSubmit(now: number) {
    this.refill(now)
    return now >= this.pausedUntil && this.tokens >= 1
  }

  /** Takes one submit from the bucket; false when the rate is used up. */
  takeSubmit(now: number) {
    if (!this.canSubmit(now)) return false
    this.tokens -= 1
    return true
  }

  /** The provider asked us to wait (Retry-After): no calls to it before `until`. */
  pause(until: number) {
    this.pausedUntil = Math.max(this.pausedUntil, until)
  }

  /** Runs `clear` (forget an outage) once after failures, not on every good submit. */
  async healthy(clear: () => Promise<void>) {
    if (this.knownHealthy) return
    await clear()
    this.knownHealthy = true
  }

  unhealthy() {
    this.knownHealthy = false
  }
}
