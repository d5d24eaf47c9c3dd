import { test } from '@japa/runner'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import db from '@adonisjs/lucid/services/db'
import mediaStorage from '#integrations/storage/media_storage'
import ResumableUpload from '#models/resumable_upload'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { ResumableUploadsSweepJob } from '#jobs/resumable_uploads_sweep_job'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { seededTask } from '#tests/functional/tasks/helpers'
import {
  tus,
  tusCreate,
  tusLogin,
  tusMetadata,
  tusPatch,
  tusPatchCut,
  type TusSession,
} from '#tests/helpers/tus'

const MB = 1024 * 1024
const tusDir = () => mediaStorage.scratchDir('uploads')

/** Files the tus store holds for an upload id (the bytes and its .json). */
async function storeFiles(id: string) {
  const names = await readdir(tusDir()).catch(() => [] as string[])
  return names.filter((name) => name.startsWith(id))
}

const idOf = (path: string) => path.split('/').pop()!

async function newUser() {
  const user = await createUser()
  return { user, session: await tusLogin(user.email) }
}

async function videoFile() {
  return readFile(await media('video.mp4'))
}

function meta(taskId: string, kind = 'video', filename = 'clip.mp4') {
  return { task: taskId, kind, filename }
}

test.group('Resumable uploads (tus) / protocol', (group) => {
  freshState(group)

  test('creation, offsets, resume after a cut connection, completion into the slot', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await videoFile()

    const options = await tus(session, 'OPTIONS', '/uploads')
    assert.equal(options.status, 204)
    assert.include(options.headers.get('tus-extension')!, 'creation')
    assert.include(options.headers.get('tus-extension')!, 'termination')
    assert.include(options.headers.get('tus-extension')!, 'expiration')
    assert.equal(options.headers.get('tus-version'), '1.0.0')

    const created = await tus(session, 'POST', '/uploads', {
      headers: {
        'Upload-Length': String(video.length),
        'Upload-Metadata': tusMetadata(meta(task.id)),
      },
    })
    assert.equal(created.status, 201, created.text)
    const path = created.headers.get('location')!
    assert.match(path, /^\/uploads\/[0-9a-f]{32}$/)
    assert.equal(created.headers.get('tus-resumable'), '1.0.0')
    assert.isNotNull(created.headers.get('upload-expires'))
    const row = await ResumableUpload.findOrFail(idOf(path))
    assert.equal(row.userId, user.id)
    assert.equal(row.length, video.length)

    const head = await tus(session, 'HEAD', path)
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('upload-offset'), '0')
    assert.equal(head.headers.get('upload-length'), String(video.length))
    assert.equal(head.headers.get('cache-control'), 'no-store')

    /* The first third arrives, then the connection drops mid-body. */
    const third = Math.floor(video.length / 3)
    const first = await tusPatch(session, path, 0, video.subarray(0, third))
    assert.equal(first.status, 204, first.text)
    assert.equal(first.headers.get('upload-offset'), String(third))
    await tusPatchCut(session, path, third, video.subarray(third), 20_000)
    const resumed = await tus(session, 'HEAD', path)
    const offset = Number(resumed.headers.get('upload-offset'))
    assert.isAbove(offset, third)
    assert.isBelow(offset, video.length)

    /* A stale offset is refused; the right one continues. */
    const stale = await tusPatch(session, path, third, video.subarray(third))
    assert.equal(stale.status, 409)
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())

    const last = await tusPatch(session, path, offset, video.subarray(offset))
    assert.equal(last.status, 204, last.text)
    assert.equal(last.headers.get('upload-offset'), String(video.length))

    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.kind, 'video')
    assert.equal(input.size, video.length)
    assert.equal(input.originalName, 'clip.mp4')
    assert.isTrue((await readFile(mediaStorage.localPath(input.storageKey)!)).equals(video))
    assert.isNull(await ResumableUpload.find(row.id))
    assert.deepEqual(await storeFiles(row.id), [])
    assert.equal((await tus(session, 'HEAD', path)).status, 404)
  })

  test('creation-with-upload: the whole file in the POST', async ({ assert }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'lipsync' })
    const audio = await readFile(await media('audio.mp3'))
    const created = await tus(session, 'POST', '/uploads', {
      headers: {
        'Upload-Length': String(audio.length),
        'Upload-Metadata': tusMetadata(meta(task.id, 'audio', 'voice.mp3')),
      },
      body: audio,
    })
    assert.equal(created.status, 201, created.text)
    assert.equal(created.headers.get('upload-offset'), String(audio.length))
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.kind, 'audio')
    assert.equal(input.size, audio.length)
    assert.lengthOf(await ResumableUpload.all(), 0)
  })

  test('termination removes the bytes and the row', async ({ assert }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await videoFile()
    const path = await tusCreate(session, video.length, meta(task.id))
    await tusPatch(session, path, 0, video.subarray(0, 1000))
    assert.lengthOf(await storeFiles(idOf(path)), 2)

    const deleted = await tus(session, 'DELETE', path)
    assert.equal(deleted.status, 204)
    assert.deepEqual(await storeFiles(idOf(path)), [])
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.isNull(await ResumableUpload.find(idOf(path)))
    assert.equal((await tus(session, 'HEAD', path)).status, 404)
    assert.equal((await tusPatch(session, path, 1000, video.subarray(1000))).status, 404)
  })

  test('expiry: after 24 h an unfinished upload is gone (410) and the worker removes it', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await videoFile()
    const path = await tusCreate(session, video.length, meta(task.id))
    await tusPatch(session, path, 0, video.subarray(0, 4096))
    const id = idOf(path)

    /* Created 25 h ago, as far as the store and the row know. */
    const info = join(tusDir(), `${id}.json`)
    const stored = JSON.parse(await readFile(info, 'utf8'))
    const past = new Date(Date.now() - 25 * 3600 * 1000)
    await writeFile(info, JSON.stringify({ ...stored, creation_date: past.toISOString() }))
    await db
      .from('resumable_uploads')
      .where('id', id)
      .update({ created_at: past.toISOString().slice(0, 19).replace('T', ' ') })

    assert.equal((await tus(session, 'HEAD', path)).status, 410)
    assert.equal((await tusPatch(session, path, 4096, video.subarray(4096))).status, 410)

    /* A fresh upload of the same user is left alone by the sweep. */
    const fresh = await tusCreate(session, video.length, meta(task.id))
    await new ResumableUploadsSweepJob().tick()
    assert.deepEqual(await storeFiles(id), [])
    assert.isNull(await ResumableUpload.find(id))
    assert.isNotNull(await ResumableUpload.find(idOf(fresh)))
    assert.lengthOf(await storeFiles(idOf(fresh)), 2)
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())
  })
})

test.group('Resumable uploads (tus) / HEAD on a read-only replica', (group) => {
  freshState(group)
  group.each.teardown(async () => {
    await db.rawQuery('PRAGMA query_only = OFF')
  })

  test('HEAD never writes the database (LiteFS replicas may answer it)', async ({ assert }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const path = await tusCreate(session, 5000, meta(task.id))
    const { session: intruder } = await newUser()
    await db.rawQuery('PRAGMA query_only = ON')
    const head = await tus(session, 'HEAD', path)
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('upload-offset'), '0')
    assert.equal((await tus(intruder, 'HEAD', path)).status, 404)
    assert.equal((await tus(session, 'HEAD', '/uploads/unknown')).status, 404)
  })
})

test.group('Resumable uploads (tus) / limits, ownership, CSRF, metadata', (group) => {
  freshState(group)

  test('an Upload-Length over the kind limit is 413 with a message, nothing stored', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'lipsync' })
    const before = await readdir(tusDir()).catch(() => [])
    for (const [kind, length] of [
      ['video', 501 * MB],
      ['audio', 51 * MB],
    ] as const) {
      const refused = await tus(session, 'POST', '/uploads', {
        headers: {
          'Upload-Length': String(length),
          'Upload-Metadata': tusMetadata(meta(task.id, kind)),
        },
      })
      assert.equal(refused.status, 413, refused.text)
      assert.match(refused.json().error.message, /too large/)
    }
    /* Over every limit: refused by the protocol layer before our hooks. */
    const huge = await tus(session, 'POST', '/uploads', {
      headers: {
        'Upload-Length': String(10_000 * MB),
        'Upload-Metadata': tusMetadata(meta(task.id)),
      },
    })
    assert.equal(huge.status, 413)
    assert.match(huge.json().error.message, /too large/)
    assert.lengthOf(await ResumableUpload.all(), 0)
    assert.deepEqual(await readdir(tusDir()).catch(() => []), before)
  })

  test('a body beyond the declared length is refused or cut; the offset never passes it', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await videoFile()
    const path = await tusCreate(session, 1000, meta(task.id))
    const tooLong = await tusPatch(session, path, 0, video.subarray(0, 5000))
    assert.equal(tooLong.status, 413)
    const head = await tus(session, 'HEAD', path)
    assert.isAtMost(Number(head.headers.get('upload-offset')), 1000)
  })

  test("someone else's task is 404, an active run 409, a slot the model lacks 404", async ({
    assert,
  }) => {
    const { session } = await newUser()
    const other = await createUser()
    const theirs = await taskService.create(other.id, { name: 'Theirs', model: 'restyle' })
    const video = await videoFile()
    const create = (metadata: Record<string, string>) =>
      tus(session, 'POST', '/uploads', {
        headers: {
          'Upload-Length': String(video.length),
          'Upload-Metadata': tusMetadata(metadata),
        },
      })
    assert.equal((await create(meta(theirs.id))).status, 404)
    assert.equal((await create(meta('not-a-task'))).status, 404)

    const owner = await createUser({ balance: 100_000 })
    const ownerSession = await tusLogin(owner.email)
    const restyle = await taskService.create(owner.id, { name: 'Video only', model: 'restyle' })
    const noSlot = await tus(ownerSession, 'POST', '/uploads', {
      headers: {
        'Upload-Length': '1000',
        'Upload-Metadata': tusMetadata(meta(restyle.id, 'audio')),
      },
    })
    assert.equal(noSlot.status, 404)

    const busy = await seededTask(owner, 'restyle')
    await taskService.launch(owner.id, busy.id)
    const active = await tus(ownerSession, 'POST', '/uploads', {
      headers: {
        'Upload-Length': String(video.length),
        'Upload-Metadata': tusMetadata(meta(busy.id)),
      },
    })
    assert.equal(active.status, 409, active.text)
    assert.match(active.json().error.message, /run is in progress/)
    assert.lengthOf(await ResumableUpload.all(), 0)
  })

  test("HEAD, PATCH and DELETE of someone else's upload are 404; signed out is 401", async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await videoFile()
    const path = await tusCreate(session, video.length, meta(task.id))
    await tusPatch(session, path, 0, video.subarray(0, 2000))

    const { session: intruder } = await newUser()
    assert.equal((await tus(intruder, 'HEAD', path)).status, 404)
    assert.equal((await tusPatch(intruder, path, 2000, video.subarray(2000))).status, 404)
    assert.equal((await tus(intruder, 'DELETE', path)).status, 404)
    assert.equal((await tus(null, 'HEAD', path)).status, 401)
    /* Signed out, a state-changing request has no valid CSRF token either. */
    assert.equal((await tus(null, 'POST', '/uploads')).status, 403)

    /* Untouched: the owner continues. */
    const head = await tus(session, 'HEAD', path)
    assert.equal(head.headers.get('upload-offset'), '2000')
    assert.equal((await tusPatch(session, path, 2000, video.subarray(2000))).status, 204)
  })

  test('creation, PATCH and DELETE need the X-CSRF-Token header; HEAD does not', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await videoFile()
    const headers = {
      'Upload-Length': String(video.length),
      'Upload-Metadata': tusMetadata(meta(task.id)),
    }
    const noToken = await tus(session, 'POST', '/uploads', { headers, csrf: false })
    assert.equal(noToken.status, 403)
    assert.equal(noToken.json().error.code, 'bad_csrf_token')
    assert.lengthOf(await ResumableUpload.all(), 0)

    const path = await tusCreate(session, video.length, meta(task.id))
    const patch = await tus(session, 'PATCH', path, {
      headers: { 'Upload-Offset': '0' },
      body: video.subarray(0, 100),
      csrf: false,
    })
    assert.equal(patch.status, 403)
    assert.equal((await tus(session, 'DELETE', path, { csrf: false })).status, 403)
    const head = await tus(session, 'HEAD', path)
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('upload-offset'), '0')
  })

  test('missing or forged metadata gets a clear 4xx; unknown keys are dropped', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const create = (metadata: string | null, length = '1000') =>
      tus(session, 'POST', '/uploads', {
        headers: {
          'Upload-Length': length,
          ...(metadata === null ? {} : { 'Upload-Metadata': metadata }),
        },
      })
    for (const metadata of [
      null,
      tusMetadata({ task: task.id, kind: 'video' }),
      tusMetadata({ kind: 'video', filename: 'a.mp4' }),
    ]) {
      const refused = await create(metadata)
      assert.equal(refused.status, 400, refused.text)
      assert.match(refused.json().error.message, /task .*kind .*filename/)
    }
    const image = await create(tusMetadata(meta(task.id, 'image')))
    assert.equal(image.status, 400)
    assert.match(image.json().error.message, /video or audio/)
    assert.equal((await create('task !!!notbase64')).status, 400)
    assert.equal((await create(tusMetadata(meta(task.id)), '0')).status, 422)
    const deferred = await tus(session, 'POST', '/uploads', {
      headers: { 'Upload-Defer-Length': '1', 'Upload-Metadata': tusMetadata(meta(task.id)) },
    })
    assert.equal(deferred.status, 400)
    assert.lengthOf(await ResumableUpload.all(), 0)

    const path = await tusCreate(session, 1000, { ...meta(task.id), user: 'someone-else' })
    const head = await tus(session, 'HEAD', path)
    assert.notInclude(head.headers.get('upload-metadata')!, 'user ')
    const row = await ResumableUpload.findOrFail(idOf(path))
    assert.equal(row.userId, user.id)
  })

  test('a file refused on completion: final PATCH 4xx with the reason, previous input kept', async ({
    assert,
  }) => {
    const { user, session } = await newUser()
    const task = await seededTask(user, 'restyle')
    const before = await TaskInput.query().where('taskId', task.id).firstOrFail()
    const text = await readFile(await media('text.mp4'))

    const path = await tusCreate(session, text.length, meta(task.id, 'video', 'fake.mp4'))
    const half = Math.floor(text.length / 2)
    assert.equal((await tusPatch(session, path, 0, text.subarray(0, half))).status, 204)
    const last = await tusPatch(session, path, half, text.subarray(half))
    assert.equal(last.status, 422, last.text)
    assert.equal(last.json().error.code, 'upload_rejected')
    assert.match(last.json().error.message, /not a video/)

    const after = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(after.storageKey, before.storageKey)
    assert.isTrue(await mediaStorage.exists(before.storageKey))
    assert.deepEqual(await storeFiles(idOf(path)), [])
    assert.lengthOf(await ResumableUpload.all(), 0)

    /* A damaged one (cut in half) is refused by ffprobe, the same way. */
    const truncated = await readFile(await media('truncated.mp4'))
    const cut = await tusCreate(session, truncated.length, meta(task.id))
    const answer = await tusPatch(session, cut, 0, truncated)
    assert.equal(answer.status, 422)
    assert.match(answer.json().error.message, /damaged or incomplete/)
    assert.equal((await TaskInput.findOrFail(before.id)).storageKey, before.storageKey)
  })
})

export type { TusSession }
