import { test } from '@japa/runner'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
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
import { tus, tusCreate, tusLogin, tusPatch } from '#tests/helpers/tus'

/*
 * Found by the chaos run (npm run chaos). First: the web process killed while the
 * final PATCH was completing an upload (sniff, ffprobe, move into storage).
 * The bytes were all in the tus store, so HEAD answered Upload-Offset equal
 * to Upload-Length: a tus client takes that as "done" and never comes back,
 * yet the file never became the task's input. An upload whose bytes are all
 * in but that was never completed now reports its last byte as missing;
 * the client sends it again and that PATCH completes the upload.
 */

/*
 * Second: a process killed between the upload's row and the store's files
 * (a creation whose answer never came) leaves a row without files; the
 * sweep's removal failed on the missing .json and stopped the whole pass,
 * so every expired upload after it kept its bytes forever.
 */

test.group('Resumable uploads (tus) / completion interrupted by a crash', (group) => {
  freshState(group)

  test('all bytes stored, completion never ran: HEAD asks for the last byte, its PATCH completes', async ({
    assert,
  }) => {
    const user = await createUser()
    const session = await tusLogin(user.email)
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const path = await tusCreate(session, video.length, {
      task: task.id,
      kind: 'video',
      filename: 'clip.mp4',
    })
    const id = path.split('/').pop()!

    /* What a process killed inside the final PATCH's completion leaves: every byte, no input. */
    await writeFile(join(mediaStorage.scratchDir('uploads'), id), video)

    const head = await tus(session, 'HEAD', path)
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('upload-offset'), String(video.length - 1))
    assert.isNull(await TaskInput.query().where('taskId', task.id).first())

    const last = await tusPatch(session, path, video.length - 1, video.subarray(-1))
    assert.equal(last.status, 204, last.text)
    assert.equal(last.headers.get('upload-offset'), String(video.length))
    const input = await TaskInput.query().where('taskId', task.id).firstOrFail()
    assert.equal(input.size, video.length)
    assert.isTrue((await readFile(mediaStorage.localPath(input.storageKey)!)).equals(video))
    assert.isNull(await ResumableUpload.find(id))
    assert.equal((await tus(session, 'HEAD', path)).status, 404)
  })

  test('a normal final PATCH still answers the full offset and completes once', async ({
    assert,
  }) => {
    const user = await createUser()
    const session = await tusLogin(user.email)
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const video = await readFile(await media('video.mp4'))
    const path = await tusCreate(session, video.length, {
      task: task.id,
      kind: 'video',
      filename: 'clip.mp4',
    })
    const half = Math.floor(video.length / 2)
    assert.equal((await tusPatch(session, path, 0, video.subarray(0, half))).status, 204)
    const head = await tus(session, 'HEAD', path)
    assert.equal(head.headers.get('upload-offset'), String(half))
    const last = await tusPatch(session, path, half, video.subarray(half))
    assert.equal(last.status, 204, last.text)
    assert.equal(last.headers.get('upload-offset'), String(video.length))
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 1)
  })

  test('the sweep removes an expired upload whose files a crash never wrote, and goes on', async ({
    assert,
  }) => {
    const user = await createUser()
    const session = await tusLogin(user.email)
    const task = await taskService.create(user.id, { name: 'Clip', model: 'restyle' })
    const dir = mediaStorage.scratchDir('uploads')
    const meta = { task: task.id, kind: 'video', filename: 'clip.mp4' }
    const orphan = (await tusCreate(session, 5000, meta)).split('/').pop()!
    const expired = (await tusCreate(session, 5000, meta)).split('/').pop()!
    await rm(join(dir, orphan))
    await rm(join(dir, `${orphan}.json`))
    const past = new Date(Date.now() - 25 * 3600 * 1000).toISOString()
    await db.from('resumable_uploads').update({ created_at: past.slice(0, 19).replace('T', ' ') })

    await new ResumableUploadsSweepJob().tick()
    assert.isNull(await ResumableUpload.find(orphan))
    assert.isNull(await ResumableUpload.find(expired))
    const left = (await readdir(dir)).filter((name) => name.startsWith(expired))
    assert.deepEqual(left, [])
  })
})
