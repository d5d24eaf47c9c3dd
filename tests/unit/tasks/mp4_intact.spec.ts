import { test } from '@japa/runner'
import { readFile, writeFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import { media } from '#tests/helpers/media'
import { mp4Intact } from '#services/tasks/media_probe'

test.group('mp4Intact (the worker’s check of a generated output)', () => {
  test('a whole MP4 passes; cut, padded, foreign or empty files do not', async ({ assert }) => {
    const whole = await readFile(await media('video.mp4'))
    const path = (name: string) => app.makePath('tmp', `mp4-intact-${name}`)
    const cases: [string, Buffer, boolean][] = [
      ['whole', whole, true],
      ['cut', whole.subarray(0, whole.length - 100), false],
      ['half', whole.subarray(0, Math.floor(whole.length / 2)), false],
      ['padded', Buffer.concat([whole, Buffer.from('xx')]), false],
      ['html', Buffer.from('<html><body>410 Gone</body></html>'), false],
      ['empty', Buffer.alloc(0), false],
    ]
    for (const [name, bytes, expected] of cases) {
      await writeFile(path(name), bytes)
      assert.equal(await mp4Intact(path(name)), expected, name)
    }
  })
})
