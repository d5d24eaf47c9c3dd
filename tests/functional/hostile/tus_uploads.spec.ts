import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import mediaStorage from '#integrations/storage/media_storage'
import taskService from '#services/tasks/task_service'
import { media } from '#tests/helpers/media'
import { seededRandom, sendRaw, type Ending } from '#tests/helpers/hostile'
import { startHostileServer, SURVIVED, type HostileServer } from '#tests/helpers/hostile_server'
import { tusMetadata } from '#tests/helpers/tus'

/*
 * The hostile-client cases of the upload routes, against resumable uploads
 * (/uploads) on a real server process: PATCH bodies cut at any point (RST or
 * FIN), slow and stalled clients, lying Content-Lengths, rapid aborts. After
 * each: the process is alive, answers /health, is back at its fd level, the
 * upload's offset is where the bytes that arrived end, and it completes
 * afterwards. A terminated upload leaves no file.
 */

const TUS = { 'tus-resumable': '1.0.0' }

async function create(app: HostileServer, taskId: string, length: number) {
  const response = await sendRaw(app.to, {
    method: 'POST',
    path: '/uploads',
    headers: app.signedIn({
      ...TUS,
      'upload-length': String(length),
      'upload-metadata': tusMetadata({ task: taskId, kind: 'video', filename: 'hostile.mp4' }),
      'content-length': '0',
    }),
    timeoutMs: 5000,
  })
  if (response.status !== 201) throw new Error(`creation: ${response.status} ${response.body}`)
  return response.headers['location']
}

function patch(app: HostileServer, path: string, offset: number, body: Buffer) {
  return {
    method: 'PATCH',
    path,
    body,
    headers: app.signedIn({
      ...TUS,
      'content-type': 'application/offset+octet-stream',
      'upload-offset': String(offset),
      'content-length': String(body.length),
    }),
  }
}

async function offsetOf(app: HostileServer, path: string) {
  const head = await sendRaw(app.to, {
    method: 'HEAD',
    path,
    headers: app.signedIn(TUS),
    timeoutMs: 5000,
  })
  if (head.status !== 200) throw new Error(`HEAD ${path}: ${head.status}`)
  return Number(head.headers['upload-offset'])
}

async function tusFiles(id: string) {
  const names = await readdir(mediaStorage.scratchDir('uploads')).catch(() => [] as string[])
  return names.filter((name) => name.startsWith(id))
}

test.group('Hostile clients against resumable uploads (/uploads)', (group) => {
  let app: HostileServer
  let taskId: string
  let video: Buffer

  group.setup(async () => {
    app = await startHostileServer()
    taskId = (await taskService.create(app.userId, { name: 'Hostile tus', model: 'restyle' })).id
    video = await readFile(await media('video.mp4'))
    await app.warmUp(async () => {
      /* One complete upload and one cut PATCH: every module is loaded. */
      const path = await create(app, taskId, video.length)
      const done = await sendRaw(app.to, { ...patch(app, path, 0, video), timeoutMs: 10_000 })
      if (done.status !== 204) throw new Error(`warm-up: ${done.status} ${done.body}`)
      const cut = await create(app, taskId, video.length)
      await sendRaw(app.to, { ...patch(app, cut, 0, video), cutAt: 10, ending: 'fin' })
    })
    return () => app.stop().then(() => {})
  })

  for (const ending of ['rst', 'fin'] as const) {
    test(`PATCH bodies cut (0, 1, the sniffed head, mid-file, last byte), then ${ending.toUpperCase()}: each resumes`, async ({
      assert,
    }) => {
      for (const cutAt of [0, 1, 2000, Math.floor(video.length / 2), video.length - 1]) {
        const path = await create(app, taskId, video.length)
        const response = await sendRaw(app.to, {
          ...patch(app, path, 0, video),
          cutAt,
          ending,
          timeoutMs: 5000,
        })
        if (response.status !== null) assert.isBelow(response.status, 500, response.body)
        assert.deepEqual(await app.survived(), SURVIVED, `cut at ${cutAt} then ${ending}`)
        const offset = await offsetOf(app, path)
        assert.isAtMost(offset, cutAt, `offset after a cut at ${cutAt}`)
        const rest = await sendRaw(app.to, {
          ...patch(app, path, offset, video.subarray(offset)),
          timeoutMs: 10_000,
        })
        assert.equal(rest.status, 204, `resume from ${offset}: ${rest.body}`)
      }
    }).timeout(60_000)
  }

  test('a slow client that goes away, and one that stalls mid-body, are cleaned up', async ({
    assert,
  }) => {
    for (const ending of ['rst', 'fin', 'hang'] as const) {
      const path = await create(app, taskId, video.length)
      await sendRaw(app.to, {
        ...patch(app, path, 0, video),
        cutAt: 3000,
        chunkSize: 100,
        chunkDelayMs: 10,
        ending,
        timeoutMs: ending === 'hang' ? 800 : 5000,
      })
      assert.deepEqual(await app.survived(), SURVIVED, `slow then ${ending}`)
      assert.isAtMost(await offsetOf(app, path), 3000)
    }
  }).timeout(60_000)

  test('Content-Length longer or shorter than the body; a body beyond Upload-Length', async ({
    assert,
  }) => {
    const path = await create(app, taskId, video.length)
    const request = patch(app, path, 0, video)
    const longer = await sendRaw(app.to, {
      ...request,
      headers: { ...request.headers, 'content-length': String(video.length + 1000) },
      ending: 'fin',
      timeoutMs: 5000,
    })
    if (longer.status !== null) assert.isBelow(longer.status, 500, longer.body)
    assert.deepEqual(await app.survived(), SURVIVED, 'declared longer, then FIN')

    const again = await create(app, taskId, video.length)
    const shorter = await sendRaw(app.to, {
      ...patch(app, again, 0, video),
      headers: { ...patch(app, again, 0, video).headers, 'content-length': '1000' },
      ending: 'complete',
      timeoutMs: 5000,
    })
    /* The extra bytes read as a next request: a 400 may overtake the PATCH's answer. */
    assert.oneOf(shorter.status, [204, 400], shorter.body)
    assert.isAtMost(await offsetOf(app, again), 1000)
    assert.deepEqual(await app.survived(), SURVIVED, 'declared shorter')

    const small = await create(app, taskId, 500)
    const beyond = await sendRaw(app.to, {
      ...patch(app, small, 0, video.subarray(0, 5000)),
      timeoutMs: 5000,
    })
    assert.equal(beyond.status, 413, beyond.body)
    assert.isAtMost(await offsetOf(app, small), 500)
    assert.deepEqual(await app.survived(), SURVIVED, 'beyond Upload-Length')
  }).timeout(60_000)

  test('100 rapid aborted PATCHes, then termination leaves no file', async ({ assert }) => {
    const random = seededRandom(15)
    const path = await create(app, taskId, video.length)
    for (let i = 0; i < 100; i++) {
      const ending: Ending = random.pick(['rst', 'fin'] as const)
      const offset = await offsetOf(app, path)
      await sendRaw(app.to, {
        ...patch(app, path, offset, video.subarray(offset)),
        cutAt: random.int(Math.min(20_000, video.length - offset)),
        ending,
        noWait: true,
      })
    }
    assert.deepEqual(await app.survived(), SURVIVED)
    const id = path.split('/').pop()!
    assert.lengthOf(await tusFiles(id), 2)
    const deleted = await sendRaw(app.to, {
      method: 'DELETE',
      path,
      headers: app.signedIn({ ...TUS, 'content-length': '0' }),
      timeoutMs: 5000,
    })
    assert.equal(deleted.status, 204, deleted.body)
    assert.deepEqual(await tusFiles(id), [])
    assert.deepEqual(await app.survived(), SURVIVED)
  }).timeout(90_000)

  test('PATCH bodies share the 4 upload slots of the account with the other upload routes', async ({
    assert,
  }) => {
    const stalledPatch = async () => {
      const path = await create(app, taskId, video.length)
      const sent = sendRaw(app.to, {
        ...patch(app, path, 0, video),
        cutAt: 5000,
        ending: 'hang',
        timeoutMs: 1500,
      })
      return { path, sent }
    }
    const stalledPut = sendRaw(app.to, {
      path: `/tasks/${taskId}/inputs/video`,
      method: 'PUT',
      body: video,
      headers: app.signedIn({
        'accept': 'application/json',
        'content-type': 'application/octet-stream',
        'x-file-name': 'video.mp4',
        'content-length': String(video.length),
      }),
      cutAt: 5000,
      ending: 'hang',
      timeoutMs: 1500,
    })
    const held = [await stalledPatch(), await stalledPatch(), await stalledPatch()]
    await new Promise((resolve) => setTimeout(resolve, 400))

    const fifth = await create(app, taskId, video.length)
    const refused = await sendRaw(app.to, { ...patch(app, fifth, 0, video), timeoutMs: 5000 })
    assert.equal(refused.status, 429, refused.body)
    assert.equal(refused.headers['tus-resumable'], '1.0.0')
    assert.include(JSON.parse(refused.body).error.message, 'You are already uploading 4 files')
    assert.equal(await offsetOf(app, fifth), 0, 'nothing of the refused body was stored')
    /* HEAD and creation without a body need no slot. */
    assert.equal(await app.healthStatus(), 200)

    for (const { sent } of held) assert.equal((await sent).end, 'timeout')
    assert.equal((await stalledPut).end, 'timeout')
    assert.deepEqual(await app.survived(), SURVIVED)
    const again = await sendRaw(app.to, { ...patch(app, fifth, 0, video), timeoutMs: 10_000 })
    assert.equal(again.status, 204, again.body)
  }).timeout(30_000)
})
