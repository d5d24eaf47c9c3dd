import { test } from '@japa/runner'
import { request as httpRequest } from 'node:http'
import { readFile, readdir, stat } from 'node:fs/promises'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'
import { keepAlive, putTo, uploadTo } from '#tests/functional/tasks/helpers'
import generationConfig from '#config/generation'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import mediaStorage from '#integrations/storage/media_storage'

async function stagingFiles() {
  try {
    return await readdir(mediaStorage.scratchDir('staging'))
  } catch {
    return []
  }
}

/* Staging files that appeared during this test (other suites may leave theirs, e.g. a killed server). */
let stagedBefore = new Set<string>()
async function stagingLeftovers() {
  return (await stagingFiles()).filter((name) => !stagedBefore.has(name))
}
async function rememberStaged() {
  stagedBefore = new Set(await stagingFiles())
}

test.group('Uploads', (group) => {
  freshState(group)
  group.each.setup(() => rememberStaged())

  test('a video and an audio file are stored under generated names, with size and duration', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await taskService.create(user.id, { name: 'Clip', model: 'lipsync' })
    const video = await uploadTo(
      client,
      user,
      task.id,
      'video',
      await media('video.mp4'),
      'My Holiday.mp4'
    )
    video.assertStatus(201)
    assert.include(video.body().input, {
      kind: 'video',
      name: 'My Holiday.mp4',
      duration: '2 s',
      resolution: '160×120',
    })
    const audio = await uploadTo(
      client,
      user,
      task.id,
      'audio',
      await media('audio.mp3'),
      'voice.mp3'
    )
    audio.assertStatus(201)

    const inputs = await TaskInput.query().where('taskId', task.id).orderBy('kind')
    assert.deepEqual(
      inputs.map((input) => [input.kind, input.mimeType, input.duration]),
      [
        ['audio', 'audio/mpeg', 1.567],
        ['video', 'video/mp4', 2],
      ]
    )
    const storedVideo = inputs.find((input) => input.kind === 'video')!
    assert.match(
      storedVideo.storageKey,
      new RegExp(`^tasks/${task.id}/inputs/[0-9a-f-]{36}\\.mp4$`)
    )
    assert.equal(storedVideo.size, (await stat(await media('video.mp4'))).size)
    assert.equal(await mediaStorage.size(storedVideo.storageKey), storedVideo.size)

    const page = await signedIn(client.get(`/tasks/${task.id}`), user)
    page.assertTextIncludes('My Holiday.mp4')
    page.assertTextIncludes('voice.mp3')
    page.assertTextIncludes('A run costs <strong data-testid="run-cost">100</strong> tokens')
    page.assertTextIncludes(
      `<video controls preload="metadata" src="/tasks/${task.id}/inputs/video">`
    )
    assert.deepEqual(await stagingLeftovers(), [])
  })

  test('the preview streams the file to its owner with Range support', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    ;(await uploadTo(client, user, task.id, 'video', await media('video.mp4'))).assertStatus(201)
    const size = (await stat(await media('video.mp4'))).size

    const whole = await signedIn(client.get(`/tasks/${task.id}/inputs/video`), user)
    whole.assertStatus(200)
    whole.assertHeader('accept-ranges', 'bytes')
    whole.assertHeader('content-length', String(size))
    assert.match(whole.header('content-disposition') ?? '', /^inline; filename="video.mp4"/)

    const part = await signedIn(client.get(`/tasks/${task.id}/inputs/video`), user).header(
      'range',
      'bytes=4-11'
    )
    part.assertStatus(206)
    part.assertHeader('content-range', `bytes 4-11/${size}`)
    part.assertHeader('content-length', '8')
    const tail = await signedIn(client.get(`/tasks/${task.id}/inputs/video`), user).header(
      'range',
      'bytes=-10'
    )
    tail.assertHeader('content-range', `bytes ${size - 10}-${size - 1}/${size}`)
    const bad = await signedIn(client.get(`/tasks/${task.id}/inputs/video`), user).header(
      'range',
      `bytes=${size}-`
    )
    bad.assertStatus(416)
    bad.assertHeader('content-range', `bytes */${size}`)
  })

  test('replacing a file swaps it and deletes the old one', async ({ client, assert }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    ;(
      await uploadTo(client, user, task.id, 'video', await media('video.mp4'), 'first.mp4')
    ).assertStatus(201)
    const first = await TaskInput.findByOrFail('taskId', task.id)
    const response = await uploadTo(
      client,
      user,
      task.id,
      'video',
      await media('video-silent.webm'),
      'second.webm'
    )
    response.assertStatus(201)
    const second = await TaskInput.query().where('taskId', task.id)
    assert.lengthOf(second, 1)
    assert.equal(second[0].originalName, 'second.webm')
    assert.equal(second[0].mimeType, 'video/webm')
    assert.isFalse(await mediaStorage.exists(first.storageKey))
    assert.isTrue(await mediaStorage.exists(second[0].storageKey))
  })

  test('bad files get a clear message and change nothing', async ({ client, assert }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'lipsync' })
    const cases: [string, string, string, RegExp][] = [
      ['video', await media('text.mp4'), 'notes.mp4', /not a video we can read/],
      ['video', await media('empty.mp4'), 'empty.mp4', /The file is empty/],
      ['video', await media('truncated.mp4'), 'cut.mp4', /damaged or incomplete/],
      [
        'video',
        await media('audio.mp3'),
        'song.mp3',
        /This is an audio file\. Please upload it in the Audio slot/,
      ],
      ['audio', await media('video.mp4'), 'clip.mp4', /This is a video file/],
      [
        'audio',
        await media('audio-20min.wav'),
        'long.wav',
        /20 min 00 s long; the limit is 10 min 00 s/,
      ],
    ]
    for (const [kind, path, name, message] of cases) {
      const response = await uploadTo(client, user, task.id, kind, path, name)
      assert.oneOf(response.status(), [413, 422], name)
      assert.match(response.body().error.message, message, name)
    }
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)
    assert.deepEqual(await stagingLeftovers(), [])
  })

  test('a file name with ../ or 300 characters is only shown, sanitised and shortened', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const long = `${'a'.repeat(296)}.mp4`
    for (const name of ['../../etc/passwd.mp4', long]) {
      const response = await uploadTo(
        client,
        user,
        task.id,
        'video',
        await media('video.mp4'),
        name
      )
      response.assertStatus(201)
      const input = await TaskInput.findByOrFail('taskId', task.id)
      assert.notInclude(input.storageKey, '..')
      assert.notInclude(input.storageKey, 'passwd')
      assert.isAtMost(input.originalName.length, 120)
      assert.notInclude(input.originalName, '/')
    }
    const input = await TaskInput.findByOrFail('taskId', task.id)
    assert.match(input.originalName, /^a+….mp4$/)
  })

  test('a 600 MB video is refused from its Content-Length before the body is read', async ({
    assert,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const cookies = await sessionCookieFor(user)
    const boundary = 'vgenboundary'
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`
    const declared = 600 * 1024 * 1024
    const started = Date.now()
    const result = await new Promise<{ status: number; body: string; sent: number }>(
      (resolve, reject) => {
        const req = httpRequest(
          {
            host: process.env.HOST,
            port: Number(process.env.PORT),
            method: 'POST',
            path: `/tasks/${task.id}/inputs/video`,
            headers: {
              'Content-Type': `multipart/form-data; boundary=${boundary}`,
              'Content-Length': String(declared),
              'Accept': 'application/json',
              'Cookie': cookies.cookie,
              'X-CSRF-Token': cookies.csrf,
            },
          },
          (res) => {
            let body = ''
            res.on('data', (chunk) => (body += chunk))
            res.on('end', () => resolve({ status: res.statusCode!, body, sent }))
          }
        )
        req.on('error', reject)
        let sent = 0
        req.write(head)
        /* A trickle of bytes: the answer must not wait for 600 MB. */
        const timer = setInterval(() => {
          if (!req.writable) return clearInterval(timer)
          sent += 1024
          req.write(Buffer.alloc(1024))
        }, 20)
        req.on('close', () => clearInterval(timer))
        req.on('response', () => setTimeout(() => clearInterval(timer), 0))
      }
    )
    assert.equal(result.status, 413)
    assert.match(JSON.parse(result.body).error.message, /too large: videos can be at most 500 MB/)
    /* Answered after a trickle, not after 600 MB. */
    assert.isBelow(result.sent, 2 * 1024 * 1024)
    assert.isBelow(Date.now() - started, 15_000)
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)
  })

  test('a body over the limit without Content-Length is cut off while streaming', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const limit = generationConfig.uploads.video.maxBytes
    generationConfig.uploads.video.maxBytes = 20 * 1024
    try {
      const response = await uploadTo(client, user, task.id, 'video', await media('video.mp4'))
      response.assertStatus(413)
      assert.match(response.body().error.message, /too large: videos can be at most 20 KB/)
    } finally {
      generationConfig.uploads.video.maxBytes = limit
    }
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)
    assert.deepEqual(await stagingLeftovers(), [])
  })

  test('no upload into a slot the model does not have, without CSRF, or while a run is active', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const noSlot = await uploadTo(client, user, task.id, 'audio', await media('audio.mp3'))
    noSlot.assertStatus(404)

    const noCsrf = await keepAlive(signedIn(client.post(`/tasks/${task.id}/inputs/video`), user))
      .file('file', await media('video.mp4'))
      .redirects(0)
    assert.oneOf(noCsrf.status(), [302, 403])
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)

    ;(
      await uploadTo(client, user, task.id, 'video', await media('video.mp4'), 'a.mp4')
    ).assertStatus(201)
    await taskService.launch(user.id, task.id)
    const busy = await uploadTo(client, user, task.id, 'video', await media('video.mp4'), 'b.mp4')
    busy.assertStatus(409)
    assert.match(busy.body().error.message, /A run is in progress/)
    assert.equal((await TaskInput.findByOrFail('taskId', task.id)).originalName, 'a.mp4')
  })

  test('without JavaScript the form posts and redirects back with a message', async ({
    client,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const ok = await signedIn(client.post(`/tasks/${task.id}/inputs/video`), user)
      .file('file', await media('video.mp4'))
      .withCsrfToken()
      .redirects(0)
    ok.assertStatus(302)
    ok.assertHeader('location', `/tasks/${task.id}`)
    ok.assertFlashMessage('success', 'Video uploaded.')

    const bad = await signedIn(client.post(`/tasks/${task.id}/inputs/video`), user)
      .file('file', await media('text.mp4'))
      .withCsrfToken()
      .redirects(0)
    bad.assertStatus(302)
    bad.assertFlashMessage(
      'error',
      'This file is not a video we can read. Please upload an MP4, MOV, WebM or MKV video.'
    )
  })
})

test.group("Uploads: the raw body (the task page's uploader)", (group) => {
  freshState(group)
  group.each.setup(() => rememberStaged())

  test('a PUT of the file itself is stored under a generated name, with the name from X-File-Name', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await taskService.create(user.id, { name: 'Clip', model: 'lipsync' })
    const video = await putTo(
      client,
      user,
      task.id,
      'video',
      await media('video.mp4'),
      'Été à la plage.mp4'
    )
    video.assertStatus(201)
    assert.include(video.body().input, {
      kind: 'video',
      name: 'Été à la plage.mp4',
      duration: '2 s',
      resolution: '160×120',
    })
    const audio = await putTo(client, user, task.id, 'audio', await media('audio.mp3'), 'voice.mp3')
    audio.assertStatus(201)

    const inputs = await TaskInput.query().where('taskId', task.id).orderBy('kind')
    assert.deepEqual(
      inputs.map((input) => [input.kind, input.mimeType, input.duration]),
      [
        ['audio', 'audio/mpeg', 1.567],
        ['video', 'video/mp4', 2],
      ]
    )
    const storedVideo = inputs.find((input) => input.kind === 'video')!
    assert.match(
      storedVideo.storageKey,
      new RegExp(`^tasks/${task.id}/inputs/[0-9a-f-]{36}\\.mp4$`)
    )
    /* The stored file is byte for byte the one sent. */
    const local = mediaStorage.localPath(storedVideo.storageKey)!
    assert.isTrue((await readFile(local)).equals(await readFile(await media('video.mp4'))))

    const page = await signedIn(client.get(`/tasks/${task.id}`), user)
    page.assertTextIncludes('Été à la plage.mp4')
    page.assertTextIncludes('A run costs <strong data-testid="run-cost">100</strong> tokens')
    assert.deepEqual(await stagingLeftovers(), [])
  })

  test('renamed, empty, damaged or misplaced files get a clear message and change nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'lipsync' })
    const cases: [string, string, string, RegExp][] = [
      ['video', await media('text.mp4'), 'notes.mp4', /not a video we can read/],
      ['video', await media('empty.mp4'), 'empty.mp4', /The file is empty/],
      ['video', await media('truncated.mp4'), 'cut.mp4', /damaged or incomplete/],
      ['video', await media('audio.mp3'), 'song.mp3', /This is an audio file/],
      ['audio', await media('video.mp4'), 'clip.mp4', /This is a video file/],
      ['audio', await media('text.mp4'), 'voice.mp3', /not an audio file we can read/],
    ]
    for (const [kind, path, name, message] of cases) {
      const response = await putTo(client, user, task.id, kind, path, name)
      response.assertStatus(422)
      assert.match(response.body().error.message, message, name)
    }
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)
    assert.deepEqual(await stagingLeftovers(), [])
  })

  test('file names: folders stripped, long names shortened, bad encoding and none handled', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const sent = async (name: string | null) => {
      const response = await putTo(client, user, task.id, 'video', await media('video.mp4'), name)
      response.assertStatus(201)
      const input = await TaskInput.findByOrFail('taskId', task.id)
      assert.notInclude(input.storageKey, '..')
      assert.notInclude(input.storageKey, 'passwd')
      return input.originalName
    }
    assert.equal(await sent('../../etc/passwd.mp4'), 'passwd.mp4')
    assert.equal(await sent('C:\\Users\\me\\clip.mp4'), 'clip.mp4')
    assert.match(await sent(`${'a'.repeat(296)}.mp4`), /^a{100,}….mp4$/)
    assert.equal(await sent('bad\u0000name\u001f.mp4'), 'badname.mp4')
    assert.equal(await sent(null), 'video.mp4')
    assert.equal(await sent('...'), 'video.mp4')

    /* Not valid URL encoding: taken as it is, still only shown. */
    const raw = await signedIn(client.put(`/tasks/${task.id}/inputs/video`), user)
      .header('accept', 'application/json')
      .header('content-type', 'application/octet-stream')
      .header('x-file-name', 'half%E0%A4%A.mp4')
      .withCsrfToken()
      .setup((request) => {
        request.request.send(Buffer.from('x'))
      })
    assert.equal(raw.status(), 422)
  })

  test('a body declared or grown over the limit is cut off early', async ({ assert }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const session = await sessionCookieFor(user)

    /* Declared: refused from Content-Length after a trickle, not after 600 MB. */
    const declared = await rawPut(session, `/tasks/${task.id}/inputs/video`, {
      'Content-Length': String(600 * 1024 * 1024),
    })
    assert.equal(declared.status, 413)
    assert.match(JSON.parse(declared.body).error.message, /videos can be at most 500 MB/)
    assert.isBelow(declared.sent, 2 * 1024 * 1024)

    /* Chunked, no length: cut off once the bytes counted pass the limit. */
    const limit = generationConfig.uploads.video.maxBytes
    generationConfig.uploads.video.maxBytes = 256 * 1024
    try {
      const head = await readFile(await media('video.mp4'))
      const grown = await rawPut(session, `/tasks/${task.id}/inputs/video`, {}, head)
      assert.equal(grown.status, 413)
      assert.match(JSON.parse(grown.body).error.message, /videos can be at most 256 KB/)
      assert.isBelow(grown.sent, 4 * 1024 * 1024)
    } finally {
      generationConfig.uploads.video.maxBytes = limit
    }
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)
    assert.deepEqual(await stagingLeftovers(), [])
  })

  test("no upload with a wrong CSRF token, into another user's task, a missing slot or as multipart", async ({
    client,
    assert,
  }) => {
    const owner = await createUser()
    const other = await createUser()
    const task = await taskService.create(owner.id, { name: 'Clip', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))

    const wrongToken = await keepAlive(
      signedIn(client.put(`/tasks/${task.id}/inputs/video`), owner)
    )
      .header('accept', 'application/json')
      .header('content-type', 'application/octet-stream')
      .header('x-csrf-token', 'not-the-token')
      .redirects(0)
      .setup((request) => {
        request.request.send(video)
      })
    wrongToken.assertStatus(403)
    assert.match(wrongToken.body().error.message, /session has expired\. Reload the page/)
    const noToken = await keepAlive(signedIn(client.put(`/tasks/${task.id}/inputs/video`), owner))
      .header('accept', 'application/json')
      .header('content-type', 'application/octet-stream')
      .redirects(0)
      .setup((request) => {
        request.request.send(video)
      })
    noToken.assertStatus(403)

    const stranger = await putTo(client, other, task.id, 'video', await media('video.mp4'))
    stranger.assertStatus(404)
    const noSlot = await putTo(client, owner, task.id, 'audio', await media('audio.mp3'))
    noSlot.assertStatus(404)

    const multipart = await keepAlive(signedIn(client.put(`/tasks/${task.id}/inputs/video`), owner))
      .header('accept', 'application/json')
      .file('file', await media('video.mp4'))
      .withCsrfToken()
    multipart.assertStatus(415)
    assert.match(multipart.body().error.message, /Content-Type: application\/octet-stream/)

    assert.lengthOf(await TaskInput.query(), 0)
    assert.deepEqual(await stagingLeftovers(), [])
  })
})

/** A raw PUT that trickles `body` (or zeros) until the server answers. */
function rawPut(
  session: { cookie: string; csrf: string },
  path: string,
  headers: Record<string, string>,
  body = Buffer.alloc(0)
) {
  return new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    let sent = 0
    const req = httpRequest(
      {
        host: process.env.HOST,
        port: Number(process.env.PORT),
        method: 'PUT',
        path,
        headers: {
          'Content-Type': 'application/octet-stream',
          'Accept': 'application/json',
          'Cookie': session.cookie,
          'X-CSRF-Token': session.csrf,
          'X-File-Name': 'big.mp4',
          ...headers,
        },
      },
      (res) => {
        clearInterval(timer)
        let text = ''
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, body: text, sent }))
      }
    )
    req.on('error', reject)
    if (body.length) {
      req.write(body)
      sent += body.length
    }
    const timer = setInterval(() => {
      if (!req.writable) return clearInterval(timer)
      sent += 16 * 1024
      req.write(Buffer.alloc(16 * 1024))
    }, 5)
    req.on('close', () => clearInterval(timer))
  })
}

/**
 * Cookie + CSRF token of a real login, for raw HTTP requests the api client
 * cannot make (a huge declared Content-Length with a trickle of a body).
 */
async function sessionCookieFor(user: { email: string }) {
  const base = `http://${process.env.HOST}:${process.env.PORT}`
  const loginPage = await fetch(`${base}/login`)
  const jar = new Map<string, string>()
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const index = pair.indexOf('=')
      jar.set(pair.slice(0, index), pair.slice(index + 1))
    }
  }
  keep(loginPage)
  const csrfOf = (html: string) => /name='_csrf' value='([^']+)'/.exec(html)![1]
  const cookie = () => [...jar].map(([key, value]) => `${key}=${value}`).join('; ')
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Cookie': cookie() },
    body: new URLSearchParams({
      email: user.email,
      password: 'correct horse battery',
      _csrf: csrfOf(await loginPage.text()),
    }),
  })
  keep(login)
  const tasks = await fetch(`${base}/tasks/new`, { headers: { Cookie: cookie() } })
  keep(tasks)
  return { cookie: cookie(), csrf: csrfOf(await tasks.text()) }
}
