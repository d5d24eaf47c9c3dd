/*
| Generation: which provider runs the jobs, how the worker drives them, and
| the upload limits. Everything comes from start/env.ts.
*/
import env from '#start/env'
import app from '@adonisjs/core/services/app'

const MB = 1024 * 1024

const generationConfig = {
  provider: env.get('GENERATION_PROVIDER') ?? 'local',
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

  /* Signed input URLs handed to the provider stay valid this long. */
  inputUrlTtlSeconds: 6 * 3600,

  worker: {
    /* Between two status checks of a running job (webhooks make it sooner). */
    pollIntervalMs: env.get('WORKER_POLL_MS') ?? 1000,
    /* A run not finished after this fails and is refunded. */
    runTimeoutMs: (env.get('RUN_TIMEOUT_MINUTES') ?? 30) * 60_000,
    /* Transient provider errors (5xx, network) back off up to this. */
    maxBackoffMs: 60_000,
    /* Attempts to copy a finished job's output before giving up. */
    maxOutputAttempts: 5,
    /* Runs handled per tick. */
    batchSize: 5,
  },

  uploads: {
    video: { maxBytes: (env.get('UPLOAD_MAX_VIDEO_MB') ?? 500) * MB },
    audio: { maxBytes: (env.get('UPLOAD_MAX_AUDIO_MB') ?? 50) * MB },
    maxDurationSeconds: env.get('UPLOAD_MAX_DURATION_SECONDS') ?? 600,
    maxNameLength: 120,
  },

  /* Scratch space for the local provider's jobs (on the app's machine). */
  workDir: app.tmpPath('generation'),
}

export default generationConfig
