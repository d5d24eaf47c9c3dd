/*
| In development the web process runs the worker too (WORKER_IN_PROCESS);
| in production it runs as `node ace worker`.
*/
import app from '@adonisjs/core/services/app'
import env from '#start/env'

if (app.getEnvironment() === 'web' && !app.inTest && (env.get('WORKER_IN_PROCESS') ?? app.inDev)) {
  const { Worker } = await import('#services/worker/worker')
  const { workerJobs } = await import('#start/jobs')
  const worker = new Worker(await workerJobs())
  app.ready(() => worker.start())
  app.terminating(() => worker.stop())
}
