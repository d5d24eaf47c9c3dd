/*
| Every environment variable the app reads is validated here and documented
| in .env.example. Optional integrations fall back to the embedded defaults.
*/
import { Env } from '@adonisjs/core/env'

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  HOST: Env.schema.string({ format: 'host' }),
  APP_KEY: Env.schema.secret(),
  APP_URL: Env.schema.string({ format: 'url', tld: false }),
  APP_NAME: Env.schema.string.optional(),
  LOG_LEVEL: Env.schema.string(),

  /* Database: one SQLite file (WAL) */
  DATABASE_PATH: Env.schema.string.optional(),

  /* Sessions live in the signed, encrypted cookie (GET never writes the DB) */
  SESSION_DRIVER: Env.schema.enum.optional(['cookie', 'memory'] as const),

  /* Mail */
  MAIL_MAILER: Env.schema.enum.optional(['smtp', 'dev'] as const),
  MAILBOX_PATH: Env.schema.string.optional(),
  MAIL_FROM: Env.schema.string.optional(),
  SMTP_HOST: Env.schema.string.optional(),
  SMTP_PORT: Env.schema.number.optional(),
  SMTP_USERNAME: Env.schema.string.optional(),
  SMTP_PASSWORD: Env.schema.string.optional(),
  SMTP_SECURE: Env.schema.boolean.optional(),

  /* Rate limiting */
  LIMITER_STORE: Env.schema.enum.optional(['memory', 'database'] as const),

  /* Proxies and geo */
  TRUSTED_PROXIES: Env.schema.string.optional(),
  TRUST_CDN_GEO_HEADERS: Env.schema.boolean.optional(),
  GEOIP_DATABASE: Env.schema.string.optional(),

  /* Storage */
  DRIVE_DISK: Env.schema.enum.optional(['fs', 's3', 'gcs'] as const),
  STORAGE_PATH: Env.schema.string.optional(),
  S3_BUCKET: Env.schema.string.optional(),
  S3_REGION: Env.schema.string.optional(),
  S3_ENDPOINT: Env.schema.string.optional(),
  S3_ACCESS_KEY_ID: Env.schema.string.optional(),
  S3_SECRET_ACCESS_KEY: Env.schema.string.optional(),
  S3_CHECKSUMS: Env.schema.enum.optional(['when_required', 'when_supported'] as const),
  S3_FORCE_PATH_STYLE: Env.schema.boolean.optional(),
  GCS_BUCKET: Env.schema.string.optional(),
  GCS_KEY: Env.schema.string.optional(),
  GCS_API_ENDPOINT: Env.schema.string.optional({ format: 'url', tld: false }),
  GCS_READ_STALL_SECONDS: Env.schema.number.optional(),

  /* Internal admin API */
  ADMIN_TOKEN: Env.schema.string.optional(),

  /* Payments */
  PAYMENT_GATEWAY: Env.schema.enum.optional(['dev', 'apay'] as const),
  APAY_API_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  APAY_TOKEN: Env.schema.string.optional(),
  APAY_ENVIRONMENT: Env.schema.enum.optional(['prod', 'test'] as const),
  PAYMENT_PENDING_EXPIRY_MINUTES: Env.schema.number.optional(),
  APAY_TIMEOUT_MS: Env.schema.number.optional(),

  /* Generation */
  GENERATION_PROVIDER: Env.schema.enum.optional([
    'local',
    'http',
    'sync',
    'replicate',
    'fal',
  ] as const),
  GENERATION_API_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  GENERATION_API_KEY: Env.schema.string.optional(),
  GENERATION_WEBHOOK_SECRET: Env.schema.string.optional(),
  SYNC_API_KEY: Env.schema.string.optional(),
  SYNC_API_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  SYNC_WEBHOOK_SECRET: Env.schema.string.optional(),
  SYNC_SUBMITS_PER_MINUTE: Env.schema.number.optional(),
  REPLICATE_API_TOKEN: Env.schema.string.optional(),
  REPLICATE_API_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  REPLICATE_WEBHOOK_SECRET: Env.schema.string.optional(),
  REPLICATE_SUBMITS_PER_MINUTE: Env.schema.number.optional(),
  FAL_KEY: Env.schema.string.optional(),
  FAL_QUEUE_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  FAL_WEBHOOK_JWKS_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  FAL_WEBHOOKS: Env.schema.boolean.optional(),
  FAL_SUBMITS_PER_MINUTE: Env.schema.number.optional(),
  GENERATION_FAILOVER_MINUTES: Env.schema.number.optional(),
  GENERATION_PROVIDER_CONCURRENCY: Env.schema.number.optional(),
  LOCAL_MAX_RENDERS: Env.schema.number.optional(),
  FFMPEG_PATH: Env.schema.string.optional(),
  FFPROBE_PATH: Env.schema.string.optional(),
  RUN_TIMEOUT_MINUTES: Env.schema.number.optional(),
  UPLOAD_MAX_VIDEO_MB: Env.schema.number.optional(),
  UPLOAD_MAX_AUDIO_MB: Env.schema.number.optional(),
  UPLOAD_MAX_DURATION_SECONDS: Env.schema.number.optional(),

  /* Worker */
  WORKER_IN_PROCESS: Env.schema.boolean.optional(),
  WORKER_POLL_MS: Env.schema.number.optional(),

  /* Operations: health, shutdown, LiteFS */
  HEALTH_REQUIRE_WORKER: Env.schema.boolean.optional(),
  SHUTDOWN_TIMEOUT_SECONDS: Env.schema.number.optional(),
  LITEFS_DIR: Env.schema.string.optional(),

  /* Analytics */
  BIGQUERY_PROJECT_ID: Env.schema.string.optional(),
  BIGQUERY_DATASET: Env.schema.string.optional(),
  BIGQUERY_LOCATION: Env.schema.string.optional(),
  GOOGLE_APPLICATION_CREDENTIALS: Env.schema.string.optional(),
  BIGQUERY_CREDENTIALS_JSON: Env.schema.string.optional(),
  BIGQUERY_API_ENDPOINT: Env.schema.string.optional({ format: 'url', tld: false }),
  GTM_ID: Env.schema.string.optional(),
  /* GA4 measurement id for `node ace gtm:export` (G-XXXXXXX); GA itself lives in the GTM container */
  GA_MEASUREMENT_ID: (name: string, value?: string) => {
    if (value && !/^G-[A-Z0-9]{4,16}$/.test(value)) {
      throw new Error(`${name} must look like G-XXXXXXX, got ${JSON.stringify(value)}`)
    }
    return value || undefined
  },
  /* The landing site's URL (e.g. https://vgen.com): GA links it with APP_URL (cross-domain) */
  LANDING_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  /* Consent Mode v2 default before the visitor chooses: denied (default) or granted */
  CONSENT_DEFAULT: Env.schema.enum.optional(['denied', 'granted'] as const),
})
