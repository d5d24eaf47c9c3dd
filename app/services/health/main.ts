import { HealthChecks } from '@adonisjs/core/health'
import env from '#start/env'
import { Worker } from '#services/worker/worker'
import { isReplica } from '#services/worker/node_role'
import {
  DatabaseCheck,
  MigrationsCheck,
  StorageCheck,
  WorkerHeartbeatCheck,
} from '#services/health/checks'

/**
 * The worker is required for readiness when HEALTH_REQUIRE_WORKER says so,
 * or by default when this very process runs it on a primary node: then a
 * stale heartbeat means this instance is stuck. A web-only instance can
 * serve pages without the worker (runs just wait), so there it is a warning.
 */
function workerRequired() {
  return env.get('HEALTH_REQUIRE_WORKER') ?? (Worker.current !== undefined && !isReplica())
}

export const readinessChecks = new HealthChecks().register([
  new DatabaseCheck(),
  /* A bucket round trip per probe would cost money and latency. */
  new StorageCheck().cacheFor('30s'),
  new MigrationsCheck(),
  new WorkerHeartbeatCheck(workerRequired),
])

/** The report without process details (pid, versions, error objects). */
export async function readinessReport() {
  const report = await readinessChecks.run()
  return {
    healthy: report.isHealthy,
    status: report.status,
    checkedAt: report.finishedAt,
    checks: report.checks.map((check) => ({
      name: check.name,
      status: check.status,
      message: check.message,
      ...(check.meta ? { meta: check.meta } : {}),
    })),
  }
}
