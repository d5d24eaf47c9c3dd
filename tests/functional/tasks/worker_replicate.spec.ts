import { test } from '@japa/runner'
import generationConfig from '#config/generation'
import { FakeReplicateServer } from '#tests/fakes/replicate_server'
import { hostedProviderSuite } from '#tests/functional/tasks/hosted_provider_suite'
import { ReplicateProvider, standardWebhookSignature } from '#integrations/generation/replicate'
import { FAILURE_CANCELED, FAILURE_NO_FACE } from '#integrations/generation/provider'

hostedProviderSuite({
  name: 'replicate',
  title: 'Replicate',
  makeFake: (output) => new FakeReplicateServer(output),
  configure: (fake) => {
    const original = { ...generationConfig.replicate }
    Object.assign(generationConfig.replicate, {
      apiToken: fake.apiToken,
      baseUrl: fake.url,
      webhookSecret: fake.webhookSecret,
      requestTimeoutMs: 1500,
    })
    return () => Object.assign(generationConfig.replicate, original)
  },
  submittedModel: (job) => job.path,
  expectedModel: 'sync/lipsync-2',
  failures: [
    { outcome: 'fail', message: FAILURE_NO_FACE, raw: /failed: CUDA error: no face detected/ },
    { outcome: 'cancel', message: FAILURE_CANCELED, raw: /canceled/ },
    { outcome: 'reject', message: FAILURE_CANCELED, raw: /aborted/ },
  ],
  cancels: true,
  /* No idempotency key; the retry finds the prediction by the run id in its input URLs. */
  jobsAfterLostAnswer: 1,
  forgeries: (fake, id) => [
    fake.sendWebhook(id, { tamper: true }),
    fake.sendWebhook(id, { secret: `whsec_${Buffer.from('another key').toString('base64')}` }),
    /* The whsec_ string itself as the key (not decoded) is wrong for Standard Webhooks. */
    fake.sendWebhook(id, {
      signature: `v1,${Buffer.from('x'.repeat(32)).toString('base64')}`,
    }),
    fake.sendWebhook(id, { webhookId: 'msg_other', signature: undefined, tamper: true }),
  ],
  stale: (fake, id) => fake.sendWebhook(id, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
})

test.group('Replicate Standard Webhooks (unit)', () => {
  test('key = base64-decoded part of whsec_; signed "<id>.<timestamp>.<body>"; any v1 entry may match', async ({
    assert,
  }) => {
    const secret = `whsec_${Buffer.from('k'.repeat(24)).toString('base64')}`
    const provider = new ReplicateProvider({
      apiToken: 't',
      baseUrl: 'http://127.0.0.1:9',
      webhookSecret: secret,
      requestTimeoutMs: 100,
    })
    const body = '{"id":"p1","status":"succeeded"}'
    const ts = String(Math.floor(Date.now() / 1000))
    const signature = standardWebhookSignature(secret, 'msg_1', ts, body)
    const ok = await provider.verifyWebhook({
      headers: {
        'webhook-id': 'msg_1',
        'webhook-timestamp': ts,
        'webhook-signature': `v1,AAAA ${signature}`,
      },
      rawBody: body,
    })
    assert.deepEqual(ok, { ok: true, jobId: 'p1' })
    const otherId = await provider.verifyWebhook({
      headers: { 'webhook-id': 'msg_2', 'webhook-timestamp': ts, 'webhook-signature': signature },
      rawBody: body,
    })
    assert.isFalse(otherId.ok)
  })
})
