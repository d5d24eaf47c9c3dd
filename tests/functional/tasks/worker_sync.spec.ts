import { test } from '@japa/runner'
import generationConfig from '#config/generation'
import { FakeSyncServer } from '#tests/fakes/sync_server'
import { hostedProviderSuite } from '#tests/functional/tasks/hosted_provider_suite'
import { SyncProvider, syncSignature } from '#integrations/generation/sync'
import {
  FAILURE_CANCELED,
  FAILURE_NO_FACE,
  FAILURE_REJECTED,
} from '#integrations/generation/provider'

hostedProviderSuite({
  name: 'sync',
  title: 'sync.so',
  makeFake: (output) => new FakeSyncServer(output),
  configure: (fake) => {
    const original = { ...generationConfig.sync }
    Object.assign(generationConfig.sync, {
      apiKey: fake.apiKey,
      baseUrl: fake.url,
      webhookSecret: fake.webhookSecret,
      requestTimeoutMs: 1500,
    })
    return () => Object.assign(generationConfig.sync, original)
  },
  submittedModel: (job) => job.body.model,
  expectedModel: 'lipsync-2',
  failures: [
    { outcome: 'fail', message: FAILURE_NO_FACE, raw: /FAILED: generation_face_not_found/ },
    { outcome: 'reject', message: FAILURE_REJECTED, raw: /REJECTED: content_moderation/ },
    { outcome: 'cancel', message: FAILURE_CANCELED, raw: /CANCELED/ },
  ],
  /* The v2 API publishes no cancel endpoint. */
  cancels: false,
  /* The Idempotency-Key makes the retried submit answer the first generation. */
  jobsAfterLostAnswer: 1,
  forgeries: (fake, id) => [
    fake.sendWebhook(id, { tamper: true }),
    fake.sendWebhook(id, { secret: 'whsec_wrong' }),
    /* The secret base64-decoded is not the key: the string as configured is. */
    fake.sendWebhook(id, {
      secret: Buffer.from(fake.webhookSecret.replace(/^whsec_/, ''), 'base64').toString('latin1'),
    }),
    fake.sendWebhook(id, { signature: 'v1=deadbeef' }),
    fake.sendWebhook(id, { signature: '' }),
  ],
  stale: (fake, id) => fake.sendWebhook(id, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
})

test.group('sync.so webhook signature (unit)', () => {
  test('t=…,v1=… over "<t>.<raw body>" with the secret string as the key; several v1 accepted', async ({
    assert,
  }) => {
    const provider = new SyncProvider({
      apiKey: 'k',
      baseUrl: 'http://127.0.0.1:9',
      webhookSecret: 'whsec_abc',
      requestTimeoutMs: 100,
    })
    const body = '{"id":"gen-1","status":"COMPLETED"}'
    const t = String(Math.floor(Date.now() / 1000))
    const good = syncSignature('whsec_abc', t, body)
    const verdict = await provider.verifyWebhook({
      headers: { 'sync-signature': `t=${t},v1=${'0'.repeat(64)},v1=${good}` },
      rawBody: body,
    })
    assert.deepEqual(verdict, { ok: true, jobId: 'gen-1' })
    const future = await provider.verifyWebhook({
      headers: {
        'sync-signature': `t=${Number(t) + 600},v1=${syncSignature('whsec_abc', String(Number(t) + 600), body)}`,
      },
      rawBody: body,
    })
    assert.isFalse(future.ok)
  })
})
