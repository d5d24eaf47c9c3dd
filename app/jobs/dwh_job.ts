import logger from '@adonisjs/core/services/logger'
import env from '#start/env'
import dwhConfig from '#config/dwh'
import { OutboxShipper } from '#services/dwh/shipper'
import { NdjsonMirror } from '#services/dwh/ndjson_mirror'
import type { WorkerJob } from '#services/worker/types'

const PRUNE_EVERY_MS = 60 * 60 * 1000

/**
 * The analytics worker job: ships due outbox rows to BigQuery when it is
 * configured; otherwise (development) mirrors them to NDJSON files and
 * leaves them pending; in production without BigQuery it only keeps them.
 */
export async function dwhJob(): Promise<WorkerJob> {
  const everyMs = env.get('WORKER_POLL_MS') ?? 1000

  if (dwhConfig.bigquery) {
    const { BigQuerySink } = await import('#integrations/bigquery/sink')
    let sink: InstanceType<typeof BigQuerySink>
    try {
      sink = new BigQuerySink(dwhConfig.bigquery)
    } catch (error) {
      /* Misconfigured credentials must not stop the worker's other jobs (or the web process). */
      return idleJob(
        `BigQuery is misconfigured (${(error as Error).message}); analytics rows stay in the outbox`,
        'error'
      )
    }
    const shipper = new OutboxShipper(sink)
    let lastPrune = 0
    return {
      name: 'dwh:ship',
      everyMs,
      async tick() {
        if (Date.now() - lastPrune > PRUNE_EVERY_MS) {
          lastPrune = Date.now()
          await shipper.pruneSent()
        }
        const result = await shipper.shipDue()
        return { didWork: result.claimed > 0 }
      },
    }
  }

  if (dwhConfig.mirror.enabled) {
    const mirror = new NdjsonMirror(dwhConfig.mirror.root, dwhConfig.shipping.batchSize)
    return {
      name: 'dwh:mirror',
      everyMs,
      async tick() {
        return { didWork: (await mirror.mirrorBatch()) > 0 }
      },
    }
  }

  return idleJob(
    'BigQuery is not configured (BIGQUERY_PROJECT_ID); analytics rows stay in the outbox',
    'info'
  )
}

/** Says once why nothing is shipped, then idles. */
function idleJob(message: string, level: 'info' | 'error'): WorkerJob {
  let said = false
  return {
    name: 'dwh:idle',
    everyMs: 60_000,
    async tick() {
      if (!said) {
        said = true
        logger[level](message)
      }
    },
  }
}
