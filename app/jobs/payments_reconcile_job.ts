import logger from '@adonisjs/core/services/logger'
import billingService from '#services/billing_service'
import type { WorkerJob } from '#services/worker/types'

/**
 * The worker's periodic reconcile: every minute, orders not checked in the
 * last two minutes (postbacks and the return page usually settle first).
 */
export function paymentsReconcileJob(): WorkerJob {
  return {
    name: 'payments:reconcile',
    everyMs: 60_000,
    async tick() {
      const summary = await billingService.reconcile({
        limit: 100,
        recheckAfterSeconds: 120,
      })
      if (summary.checked > 0) logger.info({ ...summary }, 'payments reconciled')
      return { didWork: false }
    },
  }
}
