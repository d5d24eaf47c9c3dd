import { test } from '@japa/runner'
import { setTimeout as sleep } from 'node:timers/promises'
import { limitConcurrency } from '#helpers/concurrency'

test.group('limitConcurrency', () => {
  test('runs at most `limit` at once, the others in order, and a failure frees its slot', async ({
    assert,
  }) => {
    const limited = limitConcurrency(3)
    let active = 0
    let peak = 0
    const started: number[] = []
    const work = (index: number) =>
      limited(async () => {
        started.push(index)
        active++
        peak = Math.max(peak, active)
        await sleep(5 + (index % 3))
        active--
        if (index === 4) throw new Error('ffmpeg failed')
        return index * 10
      })
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, index) => work(index)))
    assert.equal(peak, 3)
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert.equal(outcomes[4].status, 'rejected')
    assert.deepEqual(
      outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value),
      [0, 10, 20, 30, 50, 60, 70, 80, 90]
    )
    /* Every slot came back: a new call starts at once. */
    let ranAt = -1
    await limited(async () => (ranAt = active))
    assert.equal(ranAt, 0)
  })
})
