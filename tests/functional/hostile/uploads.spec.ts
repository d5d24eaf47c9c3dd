import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import taskService from '#services/tasks/task_service'
import { media } from '#tests/helpers/media'
import { multipartBody, openFds, seededRandom, sendRaw, type Ending } from '#tests/helpers/hostile'
import { startHostileServer, SURVIVED, type HostileServer } from '#tests/helpers/hostile_server'

/*
 * Hostile clients against the two upload routes, on a real server process
 * (a crash must not take the test runner down, and fds are counted in
 * /proc/<pid>/fd of that process). After every attack: the process is
 * alive, answers /health, has its warm-up number of open fds and left no
 * staging file.
 */

type Route = 'put' | 'multipart'

/** One upload request of `file` through the raw PUT or the multipart form. */
function uploadRequest(app: HostileServer, taskId: string, route: Route, file: Buffer) {
  const path = `/tasks/${taskId}/inputs/video`
  if (route === 'put') {
    return {
      path,
      method: 'PUT',
      body: file,
      /* Where the file's bytes start and end in the body. */
      file: { start: 0, end: file.length },
      headers: app.signedIn({
        'accept': 'application/json',
        'content-type': 'application/octet-stream',
        'x-file-name': 'video.mp4',
        'content-length': String(file.length),
      }),
    }
  }
  const form = multipartBody('hostile-boundary', [
    { name: 'note', content: 'a field before the file' },
    { name: 'file', filename: 'video.mp4', contentType: 'video/mp4', content: file },
  ])
  return {
    path,
    method: 'POST',
    body: form.body,
    file: form.offsets[1],
    headers: app.signedIn({
      'accept': 'application/json',
      'content-type': form.contentType,
      'content-length': String(form.body.length),
    }),
  }
}

test.group('Hostile uploads: truncated multipart', (group) => {
  let app: HostileServer
  let taskId: string

  group.setup(async () => {
    app = await startHostileServer()
    taskId = (await taskService.create(app.userId, { name: 'Hostile', model: 'lipsync' })).id
    return () => app.stop().then(() => {})
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
      const response = await sendRaw(app.to, {
        method: 'POST',
        path: `/tasks/${taskId}/inputs/video`,
        headers: app.signedIn({
          'accept': 'application/json',
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(body.length),
        }),
        body,
      })
      assert.equal(
        response.status,
        400,
        `${response.end} ${response.body}\n${app.server.lines.slice(-8).join('\n')}`
      )
      assert.equal(
        JSON.parse(response.body).error.message,
        'The upload did not complete. Please try again.'
      )
      assert.equal(await app.healthStatus(), 200)
    })

  test('a cut multipart body on any other POST route ({$self}) cannot end the process')
    .with(['/login', '/signup', '/forgot-password', '/tasks', '/logout', '/webhooks/generation'])
    .run(async ({ assert }, path) => {
      const body = `--x\r\nContent-Disposition: form-data; name="f"; filename=""\r\n\r\nabc`
      const response = await sendRaw(app.to, {
        method: 'POST',
        path,
        headers: app.signedIn({
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(body.length),
        }),
        body,
      })
      assert.isNotNull(response.status, app.server.lines.slice(-8).join('\n'))
      assert.isBelow(response.status!, 500)
      assert.equal(await app.healthStatus(), 200)
    })
})

test.group('Hostile uploads: aborted, cut, slow and lying bodies', (group) => {
  let app: HostileServer
  let taskId: string
  let video: Buffer

  group.setup(async () => {
    app = await startHostileServer()
    taskId = (await taskService.create(app.userId, { name: 'Hostile', model: 'lipsync' })).id
    video = await readFile(await media('video.mp4'))
    await app.warmUp(async () => {
      /* One complete upload and one refused per route: every module and pool is loaded. */
      for (const route of ['put', 'multipart'] as const) {
        const ok = await sendRaw(app.to, uploadRequest(app, taskId, route, video))
        if (ok.status !== 201) throw new Error(`warm-up upload: ${ok.status} ${ok.body}`)
        await sendRaw(app.to, {
          ...uploadRequest(app, taskId, route, video),
          cutAt: 10,
          ending: 'fin',
        })
      }
    })
    return () => app.stop().then(() => {})
  })

  /* Offsets into the body: nothing, one byte, inside the multipart framing, mid-file, all but the last byte. */
  const cuts = (request: ReturnType<typeof uploadRequest>) => ({
    'no body': 0,
    'one byte': 1,
    'at the file boundary': request.file.start,
    'in the sniffed head': request.file.start + 2000,
    'mid-file': request.file.start + Math.floor((request.file.end - request.file.start) / 2),
    'at 50,000 bytes': Math.min(50_000, request.body.length - 1),
    'one byte short': request.body.length - 1,
  })

  for (const route of ['put', 'multipart'] as const) {
    for (const ending of ['rst', 'fin'] as const) {
      test(`${route}: body cut (0, 1, boundary, head, mid-file, 50 KB, last byte), then ${ending.toUpperCase()}`, async ({
        assert,
      }) => {
        const request = uploadRequest(app, taskId, route, video)
        for (const [name, cutAt] of Object.entries(cuts(request))) {
          const response = await sendRaw(app.to, { ...request, cutAt, ending, timeoutMs: 5000 })
          if (ending === 'fin' && response.status !== null) {
            assert.equal(response.status, 400, `${name}: ${response.body}`)
          }
          assert.deepEqual(await app.survived(), SURVIVED, `${route} cut ${name} then ${ending}`)
        }
      }).timeout(30_000)
    }

    test(`${route}: a slow client (10 bytes every 10 ms) that goes away`, async ({ assert }) => {
      const request = uploadRequest(app, taskId, route, video)
      for (const ending of ['rst', 'fin'] as const) {
        await sendRaw(app.to, {
          ...request,
          cutAt: request.file.start + 300,
          chunkSize: 10,
          chunkDelayMs: 10,
          ending,
          timeoutMs: 5000,
        })
        assert.deepEqual(await app.survived(), SURVIVED, `slow then ${ending}`)
      }
    }).timeout(30_000)

    test(`${route}: a slow client that stalls mid-body holds its request, and is cleaned up when it leaves`, async ({
      assert,
    }) => {
      const request = uploadRequest(app, taskId, route, video)
      const stalled = sendRaw(app.to, {
        ...request,
        cutAt: request.file.start + 5000,
        chunkSize: 1000,
        chunkDelayMs: 20,
        ending: 'hang',
        timeoutMs: 800,
      })
      /* Meanwhile the server answers others. */
      await sleep(300)
      assert.equal(await app.healthStatus(), 200)
      const response = await stalled
      assert.equal(response.end, 'timeout', 'no answer to a body that has not arrived')
      assert.deepEqual(await app.survived(), SURVIVED)
    }).timeout(30_000)

    test(`${route}: Content-Length longer or shorter than the body`, async ({ assert }) => {
      const request = uploadRequest(app, taskId, route, video)
      const longer = await sendRaw(app.to, {
        ...request,
        headers: { ...request.headers, 'content-length': String(request.body.length + 1000) },
        ending: 'fin',
        timeoutMs: 5000,
      })
      if (longer.status !== null) assert.equal(longer.status, 400, longer.body)
      assert.deepEqual(await app.survived(), SURVIVED, 'declared longer, then FIN')

      const hanging = await sendRaw(app.to, {
        ...request,
        headers: { ...request.headers, 'content-length': String(request.body.length + 1000) },
        ending: 'hang',
        timeoutMs: 500,
      })
      assert.equal(hanging.end, 'timeout')
      assert.deepEqual(await app.survived(), SURVIVED, 'declared longer, then gone')

      const shorter = await sendRaw(app.to, {
        ...request,
        headers: { ...request.headers, 'content-length': String(request.body.length - 1000) },
        ending: 'complete',
        timeoutMs: 5000,
      })
      assert.oneOf(shorter.status, [400, 422], shorter.body)
      assert.deepEqual(await app.survived(), SURVIVED, 'declared shorter')
    }).timeout(30_000)
  }

  test('an account streams at most 4 upload bodies at once; the slots come back when clients leave', async ({
    assert,
  }) => {
    const stalled = (route: Route) => {
      const request = uploadRequest(app, taskId, route, video)
      return sendRaw(app.to, { ...request, cutAt: 5000, ending: 'hang', timeoutMs: 1500 })
    }
    const held = [stalled('put'), stalled('multipart'), stalled('put'), stalled('multipart')]
    await sleep(400)
    for (const route of ['put', 'multipart'] as const) {
      const refused = await sendRaw(app.to, uploadRequest(app, taskId, route, video))
      assert.equal(refused.status, 429, refused.body)
      assert.include(JSON.parse(refused.body).error.message, 'You are already uploading 4 files')
    }
    assert.equal(await app.healthStatus(), 200)
    for (const response of await Promise.all(held)) assert.equal(response.end, 'timeout')
    assert.deepEqual(await app.survived(), SURVIVED)
    const again = await sendRaw(app.to, uploadRequest(app, taskId, 'put', video))
    assert.equal(again.status, 201, again.body)
  }).timeout(30_000)

  test('200 rapid aborts in a row (raw PUT and multipart, RST or FIN, after 0 to 50,000 bytes)', async ({
    assert,
  }) => {
    const random = seededRandom(13)
    for (let i = 0; i < 200; i++) {
      const route = random.pick(['put', 'multipart'] as const)
      const ending: Ending = random.pick(['rst', 'fin'] as const)
      const request = uploadRequest(app, taskId, route, video)
      await sendRaw(app.to, { ...request, cutAt: random.int(50_001), ending, noWait: true })
    }
    const peak = (await openFds(app.pid)).length
    const result = await app.survived()
    console.log(
      `200 rapid aborts: server fds ${app.fdLevel} before, ${peak} right after the last abort, ${(await openFds(app.pid)).length} once settled; ${result.stagingLeftovers} staging files left`
    )
    assert.deepEqual(result, SURVIVED)
    /* Every aborted request gave its upload slot back. */
    const after = await sendRaw(app.to, uploadRequest(app, taskId, 'multipart', video))
    assert.equal(after.status, 201, after.body)
  }).timeout(60_000)
})
