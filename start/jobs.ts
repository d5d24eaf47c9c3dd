/*
| Every background job the worker runs (`node ace worker`, or the web
| process in development). A new job is a class or factory in app/jobs/
| added to this list.
*/
import type { WorkerJob } from '#services/worker/types'

export async function workerJobs(): Promise<WorkerJob[]> {
  const { dwhJob } = await import('#jobs/dwh_job')
  const { paymentsReconcileJob } = await import('#jobs/payments_reconcile_job')
  const { GenerationRunsJob } = await import('#jobs/generation_runs_job')
  const { StagingSweepJob } = await import('#jobs/staging_sweep_job')
  const { ResumableUploadsSweepJob } = await import('#jobs/resumable_uploads_sweep_job')
  const { MailOutboxJob } = await import('#jobs/mail_outbox_job')
  return [
    await dwhJob(),
    paymentsReconcileJob(),
    new GenerationRunsJob(),
    new StagingSweepJob(),
    new ResumableUploadsSweepJob(),
    new MailOutboxJob(),
  ]
}
