import generationConfig from '#config/generation'
import { FakeFalServer } from '#tests/fakes/fal_server'
import { hostedProviderSuite } from '#tests/functional/tasks/hosted_provider_suite'
import {
  FAILURE_NO_FACE,
  FAILURE_REJECTED,
  FAILURE_GENERIC,
} from '#integrations/generation/provider'

hostedProviderSuite({
  name: 'fal',
  title: 'fal.ai',
  makeFake: (output) => new FakeFalServer(output),
  configure: (fake) => {
    const original = { ...generationConfig.fal }
    Object.assign(generationConfig.fal, {
      key: fake.key,
      queueUrl: fake.url,
      jwksUrl: fake.jwksUrl,
      webhooks: true,
      requestTimeoutMs: 1500,
    })
    return () => Object.assign(generationConfig.fal, original)
  },
  submittedModel: (job) => job.path,
  expectedModel: 'fal-ai/sync-lipsync/v3',
  failures: [
    /* fal's errors are on the result: COMPLETED, then a 422 with `detail`. */
    { outcome: 'fail', message: FAILURE_NO_FACE, raw: /No face detected in the video/ },
    { outcome: 'reject', message: FAILURE_REJECTED, raw: /Content policy violation/ },
    { outcome: 'cancel', message: FAILURE_GENERIC, raw: /cancelled/ },
  ],
  cancels: true,
  /* No idempotency key and no search by reference: a lost answer leaves an orphan request at fal (ours is charged once). */
  jobsAfterLostAnswer: 2,
  forgeries: (fake, id) => [
    fake.sendWebhook(id, { tamper: true }),
    fake.sendWebhook(id, { wrongKey: true }),
    fake.sendWebhook(id, { signature: 'ab'.repeat(64) }),
    fake.sendWebhook(id, { signature: 'not-a-signature' }),
  ],
  stale: (fake, id) => fake.sendWebhook(id, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
})
