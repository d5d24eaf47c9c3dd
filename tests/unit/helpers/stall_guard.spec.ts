import { test } from '@japa/runner'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { guardStalls, StreamStalled } from '#helpers/stall_guard'

/* A source that, like a dropped connection under node-fetch 2, just stops: no end, no error. */
function stoppingSource(bytes: number) {
  const source = new PassThrough()
  source.write(Buffer.alloc(bytes, 1))
  return source
}

test.group('guardStalls', () => {
  test('a source that stops while the reader waits is failed, the source destroyed', async ({
    assert,
  }) => {
    const source = stoppingSource(1000)
    const guarded = guardStalls(source, 200, 'probe')
    let received = 0
    const error = await new Promise<Error>((resolve) => {
      guarded.on('data', (chunk: Buffer) => (received += chunk.length))
      guarded.once('error', resolve)
    })
    assert.instanceOf(error, StreamStalled)
    assert.match(error.message, /^probe: no data for 200 ms$/)
    assert.equal(received, 1000)
    assert.isTrue(source.destroyed)
  })

  test('a reader that is slow (paused longer than the limit) is not a stall', async ({
    assert,
  }) => {
    const source = new PassThrough()
    const guarded = guardStalls(source, 100, 'probe')
    const chunks: Buffer[] = []
    let failed: Error | null = null
    guarded.once('error', (error) => (failed = error))
    guarded.on('data', (chunk: Buffer) => chunks.push(chunk))
    guarded.pause()
    source.write(Buffer.from('a'))
    await sleep(400)
    guarded.resume()
    source.end(Buffer.from('b'))
    await new Promise((resolve) => guarded.once('end', resolve))
    assert.isNull(failed)
    assert.equal(Buffer.concat(chunks).toString(), 'ab')
  })

  test('a source that errors passes its error on', async ({ assert }) => {
    const source = new PassThrough()
    const guarded = guardStalls(source, 10_000, 'probe')
    const failed = new Promise<Error>((resolve) => guarded.once('error', resolve))
    guarded.resume()
    source.destroy(new Error('connection reset'))
    assert.equal((await failed).message, 'connection reset')
  })
})
