import { test } from '@japa/runner'
import { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { coalesce } from '#helpers/coalesce'

test.group('coalesce (output copies write big blocks)', () => {
  test('small chunks come out as blocks of the given size, bytes unchanged, the rest at the end', async ({
    assert,
  }) => {
    const chunks = Array.from({ length: 100 }, () => randomBytes(10_000))
    const blocks: Buffer[] = []
    for await (const block of Readable.from(chunks).pipe(coalesce(64 * 1024))) blocks.push(block)
    assert.isTrue(Buffer.concat(blocks).equals(Buffer.concat(chunks)))
    assert.isTrue(blocks.slice(0, -1).every((block) => block.length >= 64 * 1024))
    assert.isBelow(blocks.length, 20)
  })
})
