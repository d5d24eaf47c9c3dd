/*
| Generation: which provider runs the jobs, how the worker drives them, and
| the upload limits. Everything comes from start/env.ts.
*/
import { availableParallelism } from 'node:os'
import env from '#start/env'
import app from '@adonisjs/core/services/app'

const MB = 1024 * 1024

const generationConfig = {
  /* Forces every model onto one provider; unset: routed per model (config/models.ts). */
  provider: env.get('GENERATION_PROVIDER') as string | undefined,
  ffmpegPath: env.get('FFMPEG_PATH') || 'ffmpeg',
  ffprobePath: env.get('FFPROBE_PATH') || 'ffprobe',

  http: {
    baseUrl: env.get('GENERATION_API_URL') ?? '',
    apiKey: env.get('GENERATION_API_KEY') ?? '',
    /* Optional: without it no webhook URL is sent and polling does all the work. */
    webhookSecret: env.get('GENERATION_WEBHOOK_SECRET') ?? '',
    /* One HTTP call to the provider never waits longer than this. */
    requestTimeoutMs: 15_000,
  },

  /* Hosted lip-sync providers (docs/generation-providers.md); credentials switch them on. */
  sync: {
    apiKey: env.get('SYNC_API_KEY') ?? '',
    baseUrl: env.get('SYNC_API_URL') || 'https://api.sync.so',
    webhookSecret: env.get('SYNC_WEBHOOK_SECRET') ?? '',
    requestTimeoutMs: 15_000,
    submitsPerMinute: env.get('SYNC_SUBMITS_PER_MINUTE') ?? 60,
  },
  replicate: {
    apiToken: env.get('REPLICATE_API_TOKEN') ?? '',
    baseUrl: env.get('REPLICATE_API_URL') || 'https://api.replicate.com',
    webhookSecret: env.get('REPLICATE_WEBHOOK_SECRET') ?? '',
    requestTimeoutMs: 15_000,
    submitsPerMinute: env.get('REPLICATE_SUBMITS_PER_MINUTE') ?? 600,
  },
  fal: {
    key: env.get('FAL_KEY') ?? '',
    queueUrl: env.get('FAL_QUEUE_URL') || 'https://queue.fal.run',
    jwksUrl: env.get('FAL_WEBHOOK_JWKS_URL') || 'https://rest.alpha.fal.ai/.well-known/jwks.json',
    webhooks: env.get('FAL_WEBHOOKS') ?? true,
    requestTimeoutMs: 15_000,
    submitsPerMinute: env.get('FAL_SUBMITS_PER_MINUTE') ?? 600,
  },

  /* A provider refusing submits this long sends new runs to the next one in the model's list. */
  failoverAfterMs: (env.get('GENERATION_FAILOVER_MINUTES') ?? 5) * 60_000,

  /* ffmpeg renders at once on this machine (each one keeps a core busy). */
  localMaxRenders: env.get('LOCAL_MAX_RENDERS') || Math.max(1, availableParallelism() - 1),

  /* Signed input URLs handed to the provider stay valid for the run's whole life (and then some). */
  get inputUrlTtlSeconds() {
    return Math.max(6 * 3600, Math.ceil(this.worker.runTimeoutMs / 1000) + 3600)
  },

  worker: {
    /* Between two status checks of a running job (webhooks make it sooner). */
    pollIntervalMs: env.get('WORKER_POLL_MS') ?? 1000,
    /* A run not finished after this fails and is refunded. */
    runTimeoutMs: (env.get('RUN_TIMEOUT_MINUTES') ?? 30) * 60_000,
    /* With a provider's webhooks set up, polling is the fallback for a lost one: this often. */
    webhookFallbackPollMs: 30_000,
    /* Transient provider errors (5xx, network) back off up to this. */
    maxBackoffMs: 60_000,
    /* Attempts to copy a finished job's output before giving up. */
    maxOutputAttempts: 5,
    /* Runs handled per tick (overdue runs expired per tick). */
    batchSize: 5,
    /* Steps in flight at once per hosted provider (local: see localMaxRenders). */
    providerConcurrency: env.get('GENERATION_PROVIDER_CONCURRENCY') ?? 32,
    /* A copy of one output may take this long before it is abandoned and retried. */
    outputCopyTimeoutMs: 10 * 60_000,
  },

  uploads: {
    video: { maxBytes: (env.get('UPLOAD_MAX_VIDEO_MB') ?? 500) * MB },
    audio: { maxBytes: (env.get('UPLOAD_MAX_AUDIO_MB') ?? 50) * MB },
    maxDurationSeconds: env.get('UPLOAD_MAX_DURATION_SECONDS') ?? 600,
    maxNameLength: 120,
    /* Bodies one account may stream at once: bounds the sockets and staging files a slow client holds. */
    maxConcurrentPerAccount: 4,
  },

  /* Scratch space for the local provider's jobs (on the app's machine). */
  workDir: app.tmpPath('generation'),
}

export default generationConfig
