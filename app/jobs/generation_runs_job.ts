import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import { appUrl } from '#config/app'
import generationConfig from '#config/generation'
import { findModel } from '#config/models'
import Run, { ACTIVE_RUN_STATUSES } from '#models/run'
import type { WorkerJob } from '#services/worker/types'
import walletService from '#services/wallet_service'
import { recordEvent } from '#services/dwh/outbox'
import mediaStorage from '#integrations/storage/media_storage'
import { probeMedia } from '#services/tasks/media_probe'
import { sqlTime } from '#helpers/sql_time'
import { signedInputUrl } from '#services/tasks/signing'
import { makeGenerationProvider } from '#integrations/generation/main'
import {
  ProviderError,
  type GenerationProvider,
  type JobStatus,
} from '#integrations/generation/provider'

type WorkerOptions = typeof generationConfig.worker

export const FAILURE_TIMEOUT = 'The run took too long and was stopped.'
export const FAILURE_LOST = 'The generation service lost this job.'
export const FAILURE_OUTPUT = 'The result could not be retrieved from the generation service.'
export const FAILURE_SUBMIT = 'The generation service refused this job.'

/**
 * Drives runs from the database: submit → store the job id at once → check
 * the status (on a timer, sooner after a webhook) → copy the output into our
 * storage → succeeded. Failed, lost and timed-out runs are refunded once.
 * Every step starts from what the database says, so a restart anywhere
 * resumes: a run that may have been submitted is looked up by its reference
 * before it is ever submitted again.
 */
export class GenerationRunsJob implements WorkerJob {
  name = 'generation-runs'
  everyMs: number

  constructor(
    private provider: GenerationProvider = makeGenerationProvider(),
    private options: WorkerOptions = generationConfig.worker
  ) {
    /* Idle pause between ticks: short enough to pick a new run up quickly. */
    this.everyMs = Math.max(50, Math.min(options.pollIntervalMs, 1000))
  }

  async tick(signal: AbortSignal) {
    const expired = await this.expireOverdue()
    const due = await Run.query()
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .where('provider', this.provider.name)
      .where('nextCheckAt', '<=', sqlTime(DateTime.now()))
      .orderBy('nextCheckAt', 'asc')
      .limit(this.options.batchSize)
    for (const run of due) {
      if (signal.aborted) break
      try {
        await this.step(run, signal)
      } catch (error) {
        if (signal.aborted) break
        /* A bug or a database hiccup: log, and look again later rather than spin. */
        logger.error({ err: error, runId: run.id }, 'generation run step failed')
        await this.reschedule(run, run.checkFailures + 1)
      }
    }
    return { didWork: expired > 0 || due.length === this.options.batchSize }
  }

  /** One step of one run; public so tests can drive a run deterministically. */
  async step(run: Run, signal: AbortSignal) {
    if (!run.providerJobId) return this.submit(run, signal)
    return this.check(run, signal)
  }

  private async submit(run: Run, signal: AbortSignal) {
    const model = findModel(run.model)
    if (!model) return this.failAndRefund(run, 'This model is no longer available.')

    /* Written before calling out: after a crash we know a submit may have reached the provider. */
    const attempt = run.submitAttempts + 1
    await run.updateProgress({ submitAttempts: attempt })

    let jobId: string | null = null
    try {
      if (attempt > 1) jobId = await this.provider.findByReference(run.id, signal)
      if (!jobId) {
        const secret = generationConfig.http.webhookSecret
        const { jobId: created } = await this.provider.submit(
          {
            reference: run.id,
            model,
            inputs: run.inputs.map((input) => ({
              kind: input.kind,
              storageKey: input.storageKey,
              url: signedInputUrl(run.id, input.kind, generationConfig.inputUrlTtlSeconds),
              contentType: input.type,
              size: input.size,
            })),
            clipSeconds: Math.min(...run.inputs.map((input) => input.duration)),
            webhookUrl: secret ? `${appUrl}/webhooks/generation` : undefined,
          },
          signal
        )
        jobId = created
      }
    } catch (error) {
      if (signal.aborted) return
      if (error instanceof ProviderError && !error.transient) {
        logger.warn({ err: error, runId: run.id }, 'generation submit refused')
        return this.failAndRefund(run, FAILURE_SUBMIT)
      }
      logger.warn({ err: error, runId: run.id }, 'generation submit failed, will retry')
      return this.reschedule(run, attempt)
    }
    await this.recordSubmitted(run, jobId)
  }

  /** Stores the job id and the analytics event in one transaction. */
  private async recordSubmitted(run: Run, jobId: string) {
    const now = DateTime.now()
    await db.transaction(async (trx) => {
      const stored = await run.updateWhileActive(
        {
          providerJobId: jobId,
          submittedAt: now,
          checkFailures: 0,
          nextCheckAt: now.plus({ milliseconds: this.options.pollIntervalMs }),
        },
        { client: trx, withoutJobId: true }
      )
      if (!stored) return
      const user = await trx.from('users').select('email').where('id', run.userId).first()
      await recordEvent(trx, 'generation_launches', {
        userid: run.userId,
        email: user?.email ?? null,
        taskid: run.taskId,
        task_properties: {
          run_id: run.id,
          run_number: run.number,
          provider: run.provider,
          provider_job_id: jobId,
          model: run.model,
          cost: run.cost,
          regeneration: run.regeneration,
          inputs: run.inputs.map((input) => ({
            kind: input.kind,
            size: input.size,
            duration: input.duration,
            type: input.type,
          })),
        },
      })
    })
  }

  private async check(run: Run, signal: AbortSignal) {
    let status: JobStatus
    try {
      status = await this.provider.getStatus(run.providerJobId!, signal)
    } catch (error) {
      if (signal.aborted) return
      if (error instanceof ProviderError && !error.transient) {
        logger.warn({ err: error, runId: run.id }, 'generation status refused')
        return this.failAndRefund(run, FAILURE_LOST)
      }
      logger.warn({ err: error, runId: run.id }, 'generation status failed, will retry')
      return this.reschedule(run, run.checkFailures + 1)
    }

    switch (status.state) {
      case 'queued':
      case 'running': {
        await run.moveTo(status.state, {
          providerStatus: status.providerStatus,
          checkFailures: 0,
          nextCheckAt: DateTime.now().plus({ milliseconds: this.options.pollIntervalMs }),
        })
        return
      }
      case 'failed':
        return this.failAndRefund(
          run,
          status.error ?? 'The generation service could not make this clip.',
          status
        )
      case 'not_found':
        /* Never resubmitted: it might have run (and been paid for) already. */
        return this.failAndRefund(run, FAILURE_LOST, status)
      case 'succeeded':
        return this.collect(run, status, signal)
    }
  }

  /** Copies the output into our storage; only then is the run succeeded. */
  private async collect(run: Run, status: JobStatus, signal: AbortSignal) {
    const key = `tasks/${run.taskId}/runs/${run.id}/output.mp4`
    let size: number
    try {
      await mediaStorage.putStream(
        key,
        await this.provider.openOutput(run.providerJobId!, status, signal)
      )
      size = await mediaStorage.size(key)
      const local = mediaStorage.localPath(key)
      if (local) await probeMedia('video', local, { ext: 'mp4', mime: 'video/mp4' })
    } catch (error) {
      if (signal.aborted) return
      await mediaStorage.delete(key)
      const attempts = run.outputAttempts + 1
      logger.warn({ err: error, runId: run.id, attempts }, 'generation output copy failed')
      if (attempts >= this.options.maxOutputAttempts)
        return this.failAndRefund(run, FAILURE_OUTPUT, status)
      await run.updateProgress({ outputAttempts: attempts })
      return this.reschedule(run, attempts)
    }

    const succeeded = await run.moveTo('succeeded', {
      providerStatus: status.providerStatus,
      outputKey: key,
      outputSize: size,
      finishedAt: DateTime.now(),
    })
    if (!succeeded) {
      /* Timed out meanwhile (and refunded): the copy is not needed. */
      await mediaStorage.delete(key)
      return
    }
    await this.provider.release(run.providerJobId!).catch(() => {})
  }

  /** Marks the run failed and refunds it, both in one transaction; a second call does nothing. */
  async failAndRefund(run: Run, message: string, status?: JobStatus) {
    const now = DateTime.now()
    const refunded = await db.transaction(async (trx) => {
      const failed = await run.moveTo(
        'failed',
        {
          /* The provider's last word is kept unless this status brings a new one. */
          ...(status?.providerStatus ? { providerStatus: status.providerStatus } : {}),
          errorMessage: message.slice(0, 255),
          finishedAt: now,
          refundedAt: now,
        },
        { client: trx }
      )
      if (!failed) return false
      const task = await trx.from('tasks').select('name').where('id', run.taskId).first()
      await walletService.change(
        {
          userId: run.userId,
          action: 'refund',
          diff: run.cost,
          reference: `refund:run:${run.id}`,
          description: `Refund for task "${task?.name ?? 'deleted task'}" run #${run.number}`,
        },
        trx
      )
      return true
    })
    if (
      refunded &&
      run.providerJobId &&
      run.provider === this.provider.name &&
      status?.state !== 'failed'
    ) {
      await this.provider.cancel(run.providerJobId).catch(() => {})
    }
    return refunded
  }

  /** Runs past their deadline fail and are refunded (whichever provider they were for). */
  private async expireOverdue() {
    const overdue = await Run.query()
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .where('deadlineAt', '<=', sqlTime(DateTime.now()))
      .limit(this.options.batchSize)
    for (const run of overdue) await this.failAndRefund(run, FAILURE_TIMEOUT)
    return overdue.length
  }

  /** Next look after an exponential backoff (capped). */
  private async reschedule(run: Run, failures: number) {
    const delay = Math.min(
      this.options.maxBackoffMs,
      this.options.pollIntervalMs * 2 ** Math.min(failures, 10)
    )
    await run.updateProgress({
      checkFailures: failures,
      nextCheckAt: DateTime.now().plus({ milliseconds: delay }),
    })
  }
}

/** A webhook said a job changed: check it now instead of at the next poll. */
export async function nudgeJob(provider: string, jobId: string) {
  return Run.checkSoon(provider, jobId)
}
