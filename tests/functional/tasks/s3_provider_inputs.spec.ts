import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { databasePath } from '#config/database'
import generationConfig from '#config/generation'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { media } from '#tests/helpers/media'
import { freePort, spawnAce } from '#tests/helpers/app_process'
import { waitForRun } from '#tests/functional/tasks/helpers'
import { FakeS3Server } from '#tests/fakes/s3_server'
import { FakeSyncServer } from '#tests/fakes/sync_server'

/*
 * DRIVE_DISK=s3 with a hosted provider: the worker (its own process) hands
 * sync.so presigned object-storage URLs, the fake provider downloads the
 * inputs straight from the bucket (the bytes never pass through the app),
 * and the output lands in the bucket.
 */
test.group('Hosted provider with DRIVE_DISK=s3: presigned input URLs', (group) => {
  freshState(group)
  const s3 = new FakeS3Server()
  let fake: FakeSyncServer
  group.setup(async () => {
    await s3.start()
    fake = await new FakeSyncServer(await media('video.mp4')).start()
    return async () => {
      await fake.stop()
      await s3.stop()
    }
  })

  test('the provider fetches both inputs from the bucket with URLs valid for the run’s life', async ({
    assert,
    cleanup,
  }) => {
    fake.fetchInputs = true
    const forced = generationConfig.provider
    const syncKey = generationConfig.sync.apiKey
    generationConfig.provider = 'sync'
    generationConfig.sync.apiKey = fake.apiKey
    cleanup(() => {
      generationConfig.provider = forced
      generationConfig.sync.apiKey = syncKey
    })

    const user = await createUser({ balance: 5000 })
    const task = await taskService.create(user.id, { name: 'S3 sync', model: 'lipsync' })
    const files = {
      video: await readFile(await media('video.mp4')),
      audio: await readFile(await media('audio.mp3')),
    }
    for (const [kind, body] of Object.entries(files)) {
      const key = `tasks/${task.id}/inputs/${kind}`
      await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }))
      await TaskInput.create({
        taskId: task.id,
        kind: kind as 'video' | 'audio',
        storageKey: key,
        originalName: `${kind}.bin`,
        mimeType: kind === 'video' ? 'video/mp4' : 'audio/mpeg',
        container: kind === 'video' ? 'mp4' : 'mp3',
        size: body.length,
        duration: kind === 'video' ? 2 : 1.5,
        width: null,
        height: null,
      })
    }
    const launched = await taskService.launch(user.id, task.id)
    assert.equal(launched.provider, 'sync')

    const worker = spawnAce(['worker'], {
      port: await freePort(),
      databasePath,
      env: s3.appEnv({
        GENERATION_PROVIDER: 'sync',
        SYNC_API_KEY: fake.apiKey,
        SYNC_API_URL: fake.url,
        SYNC_WEBHOOK_SECRET: '',
        WORKER_POLL_MS: '50',
        LOG_LEVEL: 'warn',
      }),
    })
    try {
      const run = await waitForRun(
        launched.id,
        (r) => r.status === 'succeeded' || r.status === 'failed',
        60_000
      )
      assert.equal(run.status, 'succeeded', `${run.errorMessage}\n${worker.lines.join('\n')}`)
      assert.deepEqual(
        fake.inputFetches.map((fetched) => [fetched.status, fetched.bytes]),
        [
          [200, files.video.length],
          [200, files.audio.length],
        ]
      )
      for (const fetched of fake.inputFetches) {
        const url = new URL(fetched.url)
        assert.equal(url.origin, new URL(s3.url).origin, 'straight from the bucket')
        assert.isAtLeast(Number(url.searchParams.get('X-Amz-Expires')), 6 * 3600)
      }
      const output = await s3.bytes(run.outputKey!)
      assert.equal(output.subarray(4, 8).toString('latin1'), 'ftyp')
    } finally {
      await worker.stop()
    }
  }).timeout(120_000)
})
