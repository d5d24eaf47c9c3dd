import { test } from '@japa/runner'
import { databasePath } from '#config/database'
import taskService from '#services/tasks/task_service'
import { resetState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { freePort, startServer, type AppProcess } from '#tests/helpers/app_process'
import { rawSignIn, sendRaw, target, type Target } from '#tests/helpers/hostile'

/*
 * Hostile clients against the two upload routes, on a real server process
 * (a crash must not take the test runner down, and fds are counted in
 * /proc/<pid>/fd of that process).
 */

const PASSWORD = 'correct horse battery'

test.group('Hostile uploads: truncated multipart', (group) => {
  let server: AppProcess
  let to: Target
  let session: { cookie: string; csrf: string }
  let taskId: string

  group.setup(async () => {
    await resetState()
    const user = await createUser({ password: PASSWORD })
    taskId = (await taskService.create(user.id, { name: 'Hostile', model: 'lipsync' })).id
    server = await startServer({ port: await freePort(), databasePath })
    to = target(server.baseUrl)
    session = await rawSignIn(to, user.email, PASSWORD)
    return () => server.stop('SIGKILL').then(() => {})
  })

  test('a multipart body that ends inside {name} gets a 400 and the server lives')
    .with([
      { name: 'the file part', disposition: 'name="file"; filename="a.mp4"' },
      { name: 'a file part with an empty file name', disposition: 'name="file"; filename=""' },
      { name: 'a file part of another field', disposition: 'name="other"; filename="a.mp4"' },
      { name: 'a part without a name', disposition: 'filename="a.mp4"' },
      { name: 'a text field', disposition: 'name="note"' },
    ])
    .run(async ({ assert }, { disposition }) => {
      const body = `--x\r\nContent-Disposition: form-data; ${disposition}\r\n\r\nabc`
      const response = await sendRaw(to, {
        method: 'POST',
        path: `/tasks/${taskId}/inputs/video`,
        headers: {
          'cookie': session.cookie,
          'x-csrf-token': session.csrf,
          'accept': 'application/json',
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(body.length),
        },
        body,
      })
      assert.equal(
        response.status,
        400,
        `${response.end} ${response.body}\n${server.lines.slice(-8).join('\n')}`
      )
      assert.equal(
        JSON.parse(response.body).error.message,
        'The upload did not complete. Please try again.'
      )
      const health = await fetch(server.url('/health'), { headers: { connection: 'close' } })
      assert.equal(health.status, 200)
      assert.isNull(server.child.exitCode, server.lines.slice(-20).join('\n'))
    })

  test('a cut multipart body on any other POST route ({$self}) cannot end the process')
    .with(['/login', '/signup', '/forgot-password', '/tasks', '/logout', '/webhooks/generation'])
    .run(async ({ assert }, path) => {
      const body = `--x\r\nContent-Disposition: form-data; name="f"; filename=""\r\n\r\nabc`
      const response = await sendRaw(to, {
        method: 'POST',
        path,
        headers: {
          'cookie': session.cookie,
          'x-csrf-token': session.csrf,
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(body.length),
        },
        body,
      })
      assert.isNotNull(response.status, server.lines.slice(-8).join('\n'))
      assert.isBelow(response.status!, 500)
      const health = await fetch(server.url('/health'), { headers: { connection: 'close' } })
      assert.equal(health.status, 200)
    })
})
