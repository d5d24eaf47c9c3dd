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
import { mp4Intact } from '#services/tasks/media_probe'
import { sqlTime } from '#helpers/sql_time'
import { coalesce } from '#helpers/coalesce'
import { signedInputUrl } from '#services/tasks/signing'
import {
  PROVIDER_NAMES,
  ProviderError,
  type GenerationProvider,
  type JobStatus,
} from '#integrations/generation/provider'
import {
  providerNamed,
  recordSubmitFailure,
  recordSubmitSuccess,
  routeOf,
} from '#services/tasks/provider_routing'
import { ProviderLane } from '#services/tasks/provider_lane'
import { extractPosterFrame } from '#services/tasks/poster'
import notificationMailer from '#services/notification_mailer'

type WorkerOptions = typeof generationConfig.worker & {
  /** How long a tick waits for the steps it started before it returns (they keep running). */
  tickWaitMs?: number
}

export const FAILURE_TIMEOUT = 'The run took too long and was stopped.'
export const FAILURE_LOST = 'The generation service lost this job.'
export const FAILURE_OUTPUT = 'The result could not be retrieved from the generation service.'
export const FAILURE_SUBMIT = 'The generation service refused this job.'
export const FAILURE_MODEL_GONE = 'This model is no longer available.'
const FAILURE_GENERIC = 'The generation service could not make this clip.'

/**
 * Drives runs from the database: submit → store the job id at once → check
 * the status (on a timer, sooner after a webhook) → copy the output into our
 * storage → succeeded. Failed, lost and timed-out runs are refunded once.
 * Every step starts from what the database says, so a restart anywhere
 * resumes: a run that may have been submitted is looked up by its reference
 * before it is ever submitted again.
 *
 * Steps run concurrently: each provider has its own lane (a bound on steps
 * in flight, a submit rate, a pause after a 429), so one slow output copy
 * or one slow provider never holds the other runs back. A tick starts what
 * is due and free to run, waits briefly for it, and returns; steps still
 * running are skipped by the next ticks until they finish.
 */
export class GenerationRunsJob implements WorkerJob {
  name = 'generation-runs'
  everyMs: number
  private fixed: Map<string, GenerationProvider> | null
  private lanes = new Map<string, ProviderLane>()
  private inFlight = new Map<string, Promise<void>>()
  private tickWaitMs: number

  /**
   * `provider`: drive only that provider's runs with this adapter (tests);
   * without it every run goes to the configured adapter of its provider.
   */
  constructor(
    provider?: GenerationProvider | GenerationProvider[],
    private options: WorkerOptions = generationConfig.worker
  ) {
    const list = provider ? (Array.isArray(provider) ? provider : [provider]) : null
    this.fixed = list ? new Map(list.map((entry) => [entry.name, entry])) : null
    /* Idle pause between ticks: short, so a webhook's nudge is acted on within a quarter second. */
    this.everyMs = Math.max(50, Math.min(options.pollIntervalMs, 250))
    this.tickWaitMs = options.tickWaitMs ?? 250
  }

  private providerFor(name: string) {
    if (this.fixed) return this.fixed.get(name) ?? null
    return providerNamed(name)
  }

  private names(): string[] {
    return this.fixed ? [...this.fixed.keys()] : [...PROVIDER_NAMES]
  }

  /** The lane (limits) of a provider, made on first use. */
  lane(name: string) {
    let lane = this.lanes.get(name)
    if (!lane) {
      lane = ProviderLane.forProvider(name, this.options.providerConcurrency)
      this.lanes.set(name, lane)
    }
    return lane
  }

  /** Steps in flight right now (per provider), for the bench and the logs. */
  get busy() {
    return Object.fromEntries([...this.lanes].map(([name, lane]) => [name, lane.active]))
  }

  async tick(signal: AbortSignal) {
    const expired = await this.expireOverdue()
    const started: Promise<void>[] = []
    const now = DateTime.now()
    /* One cheap look first: which providers have anything due at all. */
    const dueProviders = await db
      .from('runs')
      .distinct('provider')
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .where('next_check_at', '<=', sqlTime(now))
    const wanted = new Set(dueProviders.map((row) => String(row.provider)))
    for (const name of this.names()) {
      if (!wanted.has(name)) continue
      const provider = this.providerFor(name)
      const lane = this.lane(name)
      const free = lane.free(now.toMillis())
      if (!provider || free <= 0 || signal.aborted) continue
      const query = Run.query()
        .whereIn('status', ACTIVE_RUN_STATUSES)
        .where('provider', name)
        .where('nextCheckAt', '<=', sqlTime(now))
        /* A run a webhook just nudged goes before the routine polls. */
        .orderByRaw('(webhook_at IS NOT NULL AND webhook_at >= updated_at) DESC')
        .orderBy('nextCheckAt', 'asc')
        .limit(free)
      if (this.inFlight.size) query.whereNotIn('id', [...this.inFlight.keys()])
      /* Out of submits for now (rate limit): only runs that already have a job. */
      if (!lane.canSubmit(now.toMillis())) query.whereNotNull('providerJobId')
      for (const run of await query) {
        if (signal.aborted) break
        if (!run.providerJobId && !lane.takeSubmit(Date.now())) continue
        started.push(this.start(run, provider, lane, signal))
      }
    }
    /* Wait a little for what was started (tests and fast steps finish here); slow ones go on. */
    const pending = [...this.inFlight.values()]
    if (pending.length) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled(pending),
        new Promise((resolve) => (timer = setTimeout(resolve, this.tickWaitMs))),
      ])
      clearTimeout(timer)
    }
    if (signal.aborted) await this.stop()
    return { didWork: expired > 0 || started.length > 0 }
  }

  /** Waits for every step in flight (they see the worker's abort signal). */
  async stop() {
    await Promise.allSettled([...this.inFlight.values()])
  }

  private start(run: Run, provider: GenerationProvider, lane: ProviderLane, signal: AbortSignal) {
    lane.active += 1
    const step = this.step(run, signal, provider)
      .then(() => {})
      .catch(async (error) => {
        if (signal.aborted) return
        /* A bug or a database hiccup: log, and look again later rather than spin. */
        logger.error({ err: error, runId: run.id }, 'generation run step failed')
        await this.reschedule(run, run.checkFailures + 1).catch(() => {})
      })
      .finally(() => {
        lane.active -= 1
        this.inFlight.delete(run.id)
      })
    this.inFlight.set(run.id, step)
    return step
  }

  /** One step of one run; public so tests can drive a run deterministically. */
  async step(run: Run, signal: AbortSignal, provider = this.providerFor(run.provider)) {
    if (!provider) return
    if (!run.providerJobId) return this.submit(run, signal, provider)
    return this.check(run, signal, provider)
  }

  private async submit(run: Run, signal: AbortSignal, provider: GenerationProvider) {
    const model = findModel(run.model)
    const hosted = !['local', 'http'].includes(provider.name)
    const route = hosted ? routeOf(provider.name, run.model) : undefined
    if (!model || (hosted && !route)) return this.failAndRefund(run, FAILURE_MODEL_GONE)

    /* Written before calling out: after a crash we know a submit may have reached the provider. */
    const attempt = run.submitAttempts + 1
    await run.updateProgress({ submitAttempts: attempt })

    let jobId: string | null = null
    try {
      if (attempt > 1) jobId = await provider.findByReference(run.id, signal)
      if (!jobId) {
        const inputs = []
        for (const input of run.inputs) {
          inputs.push({
            kind: input.kind,
            storageKey: input.storageKey,
            url: await this.inputUrl(run, input),
            contentType: input.type,
            size: input.size,
          })
        }
        const { jobId: created } = await provider.submit(
          {
            reference: run.id,
            model,
            route,
            inputs,
            clipSeconds: Math.min(...run.inputs.map((input) => input.duration)),
            webhookUrl: this.webhookUrl(run, provider),
          },
          signal
        )
        jobId = created
      }
    } catch (error) {
      if (signal.aborted) return
      const message = (error as Error).message
      if (error instanceof ProviderError && !error.transient) {
        logger.warn(
          { err: error, runId: run.id, provider: provider.name },
          'generation submit refused'
        )
        return this.failAndRefund(run, FAILURE_SUBMIT, undefined, message)
      }
      logger.warn(
        { err: error, runId: run.id, provider: provider.name },
        'generation submit failed, will retry'
      )
      if (hosted) {
        this.lane(provider.name).unhealthy()
        await recordSubmitFailure(provider.name, message).catch(() => {})
      }
      const retryAfter = error instanceof ProviderError ? error.retryAfterMs : undefined
      if (retryAfter !== undefined) this.lane(provider.name).pause(Date.now() + retryAfter)
      return this.reschedule(run, attempt, retryAfter)
    }
    if (hosted) await this.lane(provider.name).healthy(() => recordSubmitSuccess(provider.name))
    await this.recordSubmitted(run, jobId, provider)
  }

  /**
   * The URL a provider fetches an input from, valid for the run's whole
   * life: a presigned object-storage URL on S3/GCS (the bytes never pass
   * through the app), else our own signed URL.
   */
  private async inputUrl(run: Run, input: Run['inputs'][number]) {
    const ttl = generationConfig.inputUrlTtlSeconds
    const presigned = await mediaStorage.presignedUrl(input.storageKey, ttl)
    return presigned ?? signedInputUrl(run.id, input.kind, ttl)
  }

  private webhookUrl(run: Run, provider: GenerationProvider) {
    if (provider.name === 'http')
      return generationConfig.http.webhookSecret ? `${appUrl}/webhooks/generation` : undefined
    if (!provider.webhooks) return undefined
    /* Our run id rides along so a webhook that beats the submit's answer still finds the run. */
    return `${appUrl}/webhooks/generation/${provider.name}?run=${encodeURIComponent(run.id)}`
  }

  /** Stores the job id and the analytics event in one transaction. */
  private async recordSubmitted(run: Run, jobId: string, provider: GenerationProvider) {
    const now = DateTime.now()
    await db.transaction(async (trx) => {
      const stored = await run.updateWhileActive(
        {
          providerJobId: jobId,
          submittedAt: now,
          checkFailures: 0,
          nextCheckAt: now.plus({ milliseconds: this.pollDelay(provider) }),
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
    /* A webhook that arrived before this answer: look at the job now, not at the next poll. */
    await Run.query()
      .where('id', run.id)
      .whereNotNull('webhookAt')
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .update({ nextCheckAt: sqlTime(DateTime.now()) })
  }

  private async check(run: Run, signal: AbortSignal, provider: GenerationProvider) {
    logger.debug(
      { runId: run.id, due: run.nextCheckAt.toMillis(), at: Date.now() },
      'generation status check'
    )
    let status: JobStatus
    try {
      status = await provider.getStatus(
        run.providerJobId!,
        signal,
        routeOf(run.provider, run.model)
      )
    } catch (error) {
      if (signal.aborted) return
      if (error instanceof ProviderError && !error.transient) {
        logger.warn({ err: error, runId: run.id }, 'generation status refused')
        return this.failAndRefund(run, FAILURE_LOST, undefined, (error as Error).message)
      }
      logger.warn({ err: error, runId: run.id }, 'generation status failed, will retry')
      const retryAfter = error instanceof ProviderError ? error.retryAfterMs : undefined
      if (retryAfter !== undefined) this.lane(provider.name).pause(Date.now() + retryAfter)
      return this.reschedule(run, run.checkFailures + 1, retryAfter)
    }

    switch (status.state) {
      case 'queued':
      case 'running': {
        await run.moveTo(status.state, {
          providerStatus: status.providerStatus,
          checkFailures: 0,
          nextCheckAt: DateTime.now().plus({ milliseconds: this.pollDelay(provider) }),
        })
        return
      }
      case 'failed':
        logger.warn(
          { runId: run.id, provider: run.provider, providerError: status.rawError },
          'generation job failed at the provider'
        )
        return this.failAndRefund(run, status.error ?? FAILURE_GENERIC, status)
      case 'not_found':
        /* Never resubmitted: it might have run (and been paid for) already. */
        return this.failAndRefund(run, FAILURE_LOST, status)
      case 'succeeded':
        return this.collect(run, status, signal, provider)
    }
  }

  /** Copies the output into our storage; only then is the run succeeded. */
  private async collect(
    run: Run,
    status: JobStatus,
    signal: AbortSignal,
    provider: GenerationProvider
  ) {
    const key = `tasks/${run.taskId}/runs/${run.id}/output.mp4`
    const startedAt = Date.now()
    let copiedAt = startedAt
    let size: number
    /* A stalled download is abandoned (and retried), never left holding a slot. */
    const copySignal = AbortSignal.any([
      signal,
      AbortSignal.timeout(this.options.outputCopyTimeoutMs),
    ])
    try {
      const download = await provider.openOutput(run.providerJobId!, status, copySignal)
      const blocks = coalesce()
      download.once('error', (error) => blocks.destroy(error))
      await mediaStorage.putStream(key, download.pipe(blocks))
      copiedAt = Date.now()
      size = await mediaStorage.size(key)
      const local = mediaStorage.localPath(key)
      /* A complete MP4 or nothing (checked in-process: no ffprobe per output). */
      if (local && !(await mp4Intact(local)))
        throw new ProviderError('The output is not a complete MP4', true)
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

    const poster = await this.extractPoster(run, key)
    /* The final state and its mail commit together: a crash cannot lose or double the mail. */
    const succeeded = await db.transaction(async (trx) => {
      const moved = await run.moveTo(
        'succeeded',
        {
          providerStatus: status.providerStatus,
          outputKey: key,
          outputSize: size,
          posterKey: poster,
          finishedAt: DateTime.now(),
        },
        { client: trx }
      )
      if (moved) await notificationMailer.queueRunFinished(trx, run)
      return moved
    })
    logger.debug(
      {
        runId: run.id,
        copyMs: copiedAt - startedAt,
        checkMs: Date.now() - copiedAt,
        at: Date.now(),
      },
      'generation output collected'
    )
    if (!succeeded) {
      /* Timed out meanwhile (and refunded): the copy is not needed. */
      await mediaStorage.delete(key)
      if (poster) await mediaStorage.delete(poster)
      return
    }
    await provider.release(run.providerJobId!).catch(() => {})
  }

  /** Marks the run failed and refunds it, both in one transaction; a second call does nothing. */
  async failAndRefund(run: Run, message: string, status?: JobStatus, rawError?: string) {
    const now = DateTime.now()
    const providerError = (status?.rawError ?? rawError)?.slice(0, 1000)
    const refunded = await db.transaction(async (trx) => {
      const failed = await run.moveTo(
        'failed',
        {
          /* The provider's last word is kept unless this status brings a new one. */
          ...(status?.providerStatus ? { providerStatus: status.providerStatus } : {}),
          errorMessage: message.slice(0, 255),
          ...(providerError ? { providerError } : {}),
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
      await notificationMailer.queueRunFinished(trx, run)
      return true
    })
    const provider = this.providerFor(run.provider)
    if (refunded && run.providerJobId && provider && status?.state !== 'failed') {
      await provider.cancel(run.providerJobId, routeOf(run.provider, run.model)).catch(() => {})
    }
    return refunded
  }

  /**
   * A still of the result for the page's player and the task list, stored
   * next to the output. A poster is a nicety: when ffmpeg cannot make one
   * the run still succeeds, without a poster.
   */
  private async extractPoster(run: Run, outputKey: string) {
    const posterKey = outputKey.replace(/output\.mp4$/, 'poster.jpg')
    try {
      const made = await extractPosterFrame(outputKey, posterKey)
      return made ? posterKey : null
    } catch (error) {
      logger.warn({ err: error, runId: run.id }, 'poster frame could not be extracted')
      await mediaStorage.delete(posterKey).catch(() => {})
      return null
    }
  }

  /** With webhooks the poll is only a fallback for a missed one: it comes less often. */
  private pollDelay(provider: GenerationProvider) {
    const { pollIntervalMs, webhookFallbackPollMs } = this.options
    return provider.webhooks ? Math.max(pollIntervalMs, webhookFallbackPollMs) : pollIntervalMs
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
  private async reschedule(run: Run, failures: number, retryAfterMs?: number) {
    const backoff = Math.min(
      this.options.maxBackoffMs,
      this.options.pollIntervalMs * 2 ** Math.min(failures, 10)
    )
    /* A provider's Retry-After is honoured even beyond our own backoff cap. */
    const delay = retryAfterMs !== undefined ? Math.max(retryAfterMs, backoff) : backoff
    await run.updateProgress({
      checkFailures: failures,
      nextCheckAt: DateTime.now().plus({ milliseconds: delay }),
    })
  }
}

/** A webhook said a job changed: check it now instead of at the next poll. */
export async function nudgeJob(provider: string, jobId: string, runId?: string) {
  return Run.checkSoon(provider, jobId, runId)
}
