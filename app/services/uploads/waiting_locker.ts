import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/server'

/*
 * The per-upload lock of @tus/server (one request at a time per upload),
 * waiting for the holder to let go instead of polling. The library's
 * MemoryLocker retries with setImmediate and chains a promise per retry:
 * while a cut PATCH on GCS still finishes its patch upload and compose
 * (what arrived is kept), the client's next request spun a CPU core and
 * held ~100 MB of promises per second of waiting. Same contract: the
 * holder is asked to release (`requestRelease`), the waiter gets the lock
 * once it is unlocked, or ERR_LOCK_TIMEOUT after `timeoutMs` or when its
 * request stops.
 */

type Holder = { requestRelease?: RequestRelease; released: Promise<void>; release: () => void }

export class WaitingLocker implements Locker {
  readonly holders = new Map<string, Holder>()

  constructor(readonly timeoutMs = 30_000) {}

  newLock(id: string): Lock {
    return new WaitingLock(id, this)
  }
}

/** Resolves with how the wait ended: the holder let go, the time ran out, or the request stopped. */
function waitForRelease(released: Promise<void>, stop: AbortSignal, ms: number) {
  return new Promise<'released' | 'ended'>((resolve) => {
    const done = (outcome: 'released' | 'ended') => {
      clearTimeout(timer)
      stop.removeEventListener('abort', onStop)
      resolve(outcome)
    }
    const onStop = () => done('ended')
    const timer = setTimeout(() => done('ended'), Math.max(0, ms))
    stop.addEventListener('abort', onStop)
    released.then(() => done('released'))
  })
}

class WaitingLock implements Lock {
  private mine: Holder | null = null

  constructor(
    private id: string,
    private locker: WaitingLocker
  ) {}

  async lock(stopSignal: AbortSignal, requestRelease?: RequestRelease) {
    const deadline = Date.now() + this.locker.timeoutMs
    for (;;) {
      const held = this.locker.holders.get(this.id)
      if (!held) {
        let release = () => {}
        const released = new Promise<void>((resolve) => (release = resolve))
        this.mine = { requestRelease, released, release }
        this.locker.holders.set(this.id, this.mine)
        return
      }
      if (stopSignal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT
      await held.requestRelease?.()
      /* Several waiters all wake up; the first to run takes it, the others wait on it again. */
      if ((await waitForRelease(held.released, stopSignal, deadline - Date.now())) !== 'released')
        throw ERRORS.ERR_LOCK_TIMEOUT
    }
  }

  async unlock() {
    const held = this.locker.holders.get(this.id)
    if (!held || held !== this.mine) throw new Error('Releasing an unlocked lock!')
    this.locker.holders.delete(this.id)
    this.mine = null
    held.release()
  }
}
