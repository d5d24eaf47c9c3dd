import type { WorkerJob } from '#services/worker/types'

/**
 * Every background job the worker runs. Each module adds its job here
 * (generation runs, analytics shipping, payment reconciliation).
 */
export async function workerJobs(): Promise<WorkerJob[]> {
  const { dwhJob } = await import('#services/dwh/job')
  const { paymentsReconcileJob } = await import('#services/billing_service')
  const { GenerationRunsJob } = await import('#services/tasks/run_worker')
  const { StagingSweepJob } = await import('#services/tasks/staging_sweep_job')
  return [await dwhJob(), paymentsReconcileJob(), new GenerationRunsJob(), new StagingSweepJob()]
}
