import env from '#start/env'
import app from '@adonisjs/core/services/app'

/*
 * Analytics (BigQuery DWH). Without BIGQUERY_PROJECT_ID the rows stay in the
 * outbox (and are mirrored to NDJSON files in development).
 */
const projectId = env.get('BIGQUERY_PROJECT_ID') || null

export type BigQueryConfig = {
  projectId: string
  dataset: string
  location: string
  /** Emulators and tests; unset = Google's endpoint. */
  apiEndpoint?: string
  /** Service-account key file (GOOGLE_APPLICATION_CREDENTIALS). */
  keyFilename?: string
  /** Service-account key JSON given inline (BIGQUERY_CREDENTIALS_JSON). */
  credentialsJson?: string
}

const dwhConfig = {
  bigquery: projectId
    ? ({
        projectId,
        dataset: env.get('BIGQUERY_DATASET') || 'vgen',
        location: env.get('BIGQUERY_LOCATION') || 'US',
        apiEndpoint: env.get('BIGQUERY_API_ENDPOINT') || undefined,
        keyFilename: env.get('GOOGLE_APPLICATION_CREDENTIALS') || undefined,
        credentialsJson: env.get('BIGQUERY_CREDENTIALS_JSON') || undefined,
      } satisfies BigQueryConfig)
    : null,

  shipping: {
    /* insertAll accepts up to 50 000 rows, but Google recommends ~500 per request. */
    batchSize: 500,
    /* Batches in flight at once: one is written to the database while the other is on the wire. */
    inFlight: 2,
    /* After this many failed attempts a row is dead-lettered (dwh:flush --retry-dead replays it). */
    maxAttempts: 20,
    /* Exponential backoff: 10 s, 20 s, 40 s ... capped at 1 h (≈ 12 h before a row is dead). */
    backoffBaseMs: 10_000,
    backoffMaxMs: 60 * 60 * 1000,
    /*
     * A claimed row is invisible to other shippers this long; a crash mid-send retries it after.
     * Longer than one insertAll (30 s timeout), shorter than BigQuery's ~1 min insertId memory.
     */
    claimMs: 50 * 1000,
    /* Sent rows are kept this long in the app database (for debugging), then pruned. */
    keepSentDays: 7,
  },

  /* NDJSON copy of the pending rows, one file per table per day, when BigQuery is not configured. */
  mirror: {
    enabled: app.inDev,
    root: app.makePath(env.get('STORAGE_PATH') || 'storage', 'dwh'),
  },

  geo: {
    trustCdnHeaders: env.get('TRUST_CDN_GEO_HEADERS') ?? false,
    databases: (env.get('GEOIP_DATABASE') || '')
      .split(',')
      .map((path) => path.trim())
      .filter(Boolean)
      .map((path) => app.makePath(path)),
  },
}

export default dwhConfig
