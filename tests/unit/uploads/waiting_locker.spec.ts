import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { ERRORS } from '@tus/server'
import { WaitingLocker } from '#services/uploads/waiting_locker'

/*
 * The tus lock used on DRIVE_DISK=gcs: one holder per upload, a waiter asks
 * the holder to release and gets the lock when it is unlocked — without
 * polling (the library's MemoryLocker retries on every event-loop turn).
 */
const never = () => new AbortController().signal

test.group('WaitingLocker', () => {
  test('a free lock is taken at once; unlocking one not held throws', async ({ assert }) => {
    const locker = new WaitingLocker()
    const lock = locker.newLock('a')
    await lock.lock(never(), () => {})
    assert.isTrue(locker.holders.has('a'))
    await lock.unlock()
    assert.isFalse(locker.holders.has('a'))
    await assert.rejects(() => lock.unlock(), 'Releasing an unlocked lock!')
  })

  test('a waiter asks the holder to release once, without polling, and gets the lock when it is unlocked', async ({
    assert,
  }) => {
    const locker = new WaitingLocker()
    const holder = locker.newLock('a')
    let asked = 0
    await holder.lock(never(), () => {
      asked++
    })
    const waiter = locker.newLock('a')
    let got = false
    const waiting = waiter.lock(never(), () => {}).then(() => (got = true))
    await sleep(200)
    /* MemoryLocker would have asked thousands of times by now. */
    assert.equal(asked, 1)
    assert.isFalse(got)
    await holder.unlock()
    await waiting
    assert.isTrue(got)
    /* Other uploads are not affected. */
    const other = locker.newLock('b')
    await other.lock(never(), () => {})
    await waiter.unlock()
    await other.unlock()
    assert.equal(locker.holders.size, 0)
  })

  test('of several waiters exactly one gets the lock at a time', async ({ assert }) => {
    const locker = new WaitingLocker()
    const first = locker.newLock('a')
    await first.lock(never(), () => {})
    const order: number[] = []
    const waiters = [1, 2, 3].map((n) => {
      const lock = locker.newLock('a')
      return lock
        .lock(never(), () => {})
        .then(async () => {
          order.push(n)
          await sleep(20)
          await lock.unlock()
        })
    })
    await first.unlock()
    await Promise.all(waiters)
    assert.sameMembers(order, [1, 2, 3])
    assert.equal(locker.holders.size, 0)
  })

  test('a waiter gives up with ERR_LOCK_TIMEOUT after the timeout, or when its request stops', async ({
    assert,
  }) => {
    const locker = new WaitingLocker(100)
    const holder = locker.newLock('a')
    await holder.lock(never(), () => {})
    const started = Date.now()
    await assert.rejects(() => locker.newLock('a').lock(never(), () => {}))
    assert.isAtLeast(Date.now() - started, 90)
    try {
      await locker.newLock('a').lock(AbortSignal.timeout(10), () => {})
      assert.fail('expected the lock to time out')
    } catch (error) {
      assert.equal(error, ERRORS.ERR_LOCK_TIMEOUT)
    }
    const stopped = new AbortController()
    stopped.abort()
    await assert.rejects(() => locker.newLock('a').lock(stopped.signal, () => {}))
    /* The holder still holds it. */
    assert.isTrue(locker.holders.has('a'))
    await holder.unlock()
  })
})
