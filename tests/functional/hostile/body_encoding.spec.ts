import { test } from '@japa/runner'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import taskService from '#services/tasks/task_service'
import { leaksInternals, sendRaw } from '#tests/helpers/hostile'
import { startHostileServer, type HostileServer } from '#tests/helpers/hostile_server'

/*
 * Request bodies with a Content-Encoding (compressed, broken or unknown):
 * refused with a 415 before anything reads the body, as a page for a form
 * and as JSON for scripts and machine endpoints; never a 500, never an
 * error line in the log.
 */

const form = 'email=a%40example.com&password=x'
const json = JSON.stringify({ email: 'a@example.com' })

const bodies = {
  'gzip, broken': { encoding: 'gzip', body: Buffer.from('this is not gzip at all') },
  'gzip, cut': { encoding: 'gzip', body: gzipSync(form).subarray(0, 12) },
  'gzip, valid': { encoding: 'gzip', body: gzipSync(form) },
  'deflate, broken': { encoding: 'deflate', body: Buffer.from([0x78, 0x9c, 1, 2, 3, 4]) },
  'deflate, valid': { encoding: 'deflate', body: deflateSync(form) },
  'br, broken': { encoding: 'br', body: Buffer.from('\u00ff\u00ff not brotli') },
  'br, valid': { encoding: 'br', body: brotliCompressSync(form) },
  'unknown coding': { encoding: 'zstd', body: Buffer.from(form) },
  'two codings': { encoding: 'gzip, br', body: Buffer.from(form) },
  'upper case': { encoding: 'GZIP', body: gzipSync(form) },
}

test.group('Hostile bodies: Content-Encoding', (group) => {
  let app: HostileServer
  let taskId: string

  group.setup(async () => {
    app = await startHostileServer()
    taskId = (await taskService.create(app.userId, { name: 'Encoded', model: 'lipsync' })).id
    return () => app.stop().then(() => {})
  })

  test('a form POST with a body encoded as {$self} gets the 415 page')
    .with(Object.keys(bodies) as (keyof typeof bodies)[])
    .run(async ({ assert }, name) => {
      const { encoding, body } = bodies[name]
      const linesBefore = app.server.lines.length
      const response = await sendRaw(app.to, {
        method: 'POST',
        path: '/login',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-encoding': encoding,
          'content-length': String(body.length),
          'accept': 'text/html',
        },
        body,
      })
      assert.equal(response.status, 415, response.body)
      assert.equal(response.headers['accept-encoding'], 'identity')
      assert.include(response.body, 'Compressed request bodies are not accepted')
      assert.isFalse(leaksInternals(response.body))
      /* Give the log a moment: the access line is written when the response is finished. */
      await new Promise((resolve) => setTimeout(resolve, 100))
      const problems = app.server.lines
        .slice(linesBefore)
        .filter((line) => !/"level":(10|20|30)\b/.test(line))
      assert.deepEqual(problems, [], 'no warning or error in the log')
    })

  test('scripts and machine endpoints get it as JSON ({$self})')
    .with(['/api/internal/user', '/webhooks/generation', 'upload PUT', 'upload POST', '/tasks'])
    .run(async ({ assert }, path) => {
      const body = gzipSync(json).subarray(0, 10)
      const target =
        path === 'upload PUT' || path === 'upload POST' ? `/tasks/${taskId}/inputs/video` : path
      const response = await sendRaw(app.to, {
        method: path === 'upload PUT' ? 'PUT' : path === '/api/internal/user' ? 'PUT' : 'POST',
        path: target,
        headers: app.signedIn({
          'content-type': path.startsWith('upload')
            ? 'application/octet-stream'
            : 'application/json',
          'content-encoding': 'gzip',
          'content-length': String(body.length),
          'accept': 'application/json',
        }),
        body,
      })
      assert.equal(response.status, 415, response.body)
      assert.deepEqual(JSON.parse(response.body), {
        error: {
          code: 'unsupported_content_encoding',
          message:
            'Compressed request bodies are not accepted. Send the body without Content-Encoding.',
        },
      })
    })

  test('identity is accepted, and a bodiless GET with the header is answered as usual', async ({
    assert,
  }) => {
    const login = await sendRaw(app.to, {
      method: 'POST',
      path: '/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-encoding': 'identity',
        'content-length': String(form.length),
      },
      body: form,
    })
    assert.notEqual(login.status, 415)
    assert.isBelow(login.status!, 500)
    const page = await sendRaw(app.to, {
      method: 'GET',
      path: '/login',
      headers: { 'content-encoding': 'gzip' },
    })
    assert.equal(page.status, 200)
  })
})
