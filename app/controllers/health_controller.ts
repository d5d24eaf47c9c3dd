import type { HttpContext } from '@adonisjs/core/http'
import { readinessReport } from '#services/health/main'

/** Probes for load balancers and orchestrators. Public, read-only, no secrets. */
export default class HealthController {
  /** Liveness: the process answers HTTP. Touches nothing else. */
  async live({ response }: HttpContext) {
    return response.header('Cache-Control', 'no-store').ok({ status: 'ok' })
  }

  /** Readiness: database, storage, migrations, worker heartbeat. 503 when not ready. */
  async ready({ response }: HttpContext) {
    const report = await readinessReport()
    response.header('Cache-Control', 'no-store')
    return report.healthy ? response.ok(report) : response.serviceUnavailable(report)
  }
}
