import { DateTime } from 'luxon'
import { hasOutput, type default as Run } from '#models/run'
import type { PolledRunRow } from '#services/tasks/task_service'
import type TaskInput from '#models/task_input'
import { formatBytes, formatSeconds } from '#helpers/formatting'

export type TaskStatus = 'draft' | Run['status']

const STATUS_LABELS: Record<TaskStatus, string> = {
  draft: 'Draft',
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
}

export function statusLabel(status: TaskStatus) {
  return STATUS_LABELS[status]
}

export function taskStatus(latest: Pick<Run, 'status'> | null): TaskStatus {
  return latest?.status ?? 'draft'
}

export function inputView(input: TaskInput) {
  return {
    kind: input.kind,
    name: input.originalName,
    size: formatBytes(input.size),
    duration: formatSeconds(input.duration),
    resolution: input.width && input.height ? `${input.width}×${input.height}` : null,
    mimeType: input.mimeType,
  }
}

/** What runJson reads of a run: a Run model, or a polled row (polledRunView). */
export type RunView = Pick<
  Run,
  'id' | 'number' | 'status' | 'cost' | 'errorMessage' | 'outputKey' | 'posterKey' | 'finishedAt'
> & { refundedAt: unknown }

/** A status-poll row as runJson reads it (dates parsed the way the Run model parses them). */
export function polledRunView(row: PolledRunRow & { id: string }): RunView {
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    cost: row.cost,
    errorMessage: row.error_message,
    refundedAt: row.refunded_at,
    outputKey: row.output_key,
    posterKey: row.poster_key,
    finishedAt: row.finished_at ? DateTime.fromSQL(row.finished_at) : null,
  }
}

/** What the task page's script needs to update a run row without reloading. */
export function runJson(run: RunView, taskId: string) {
  const ready = hasOutput(run)
  return {
    id: run.id,
    number: run.number,
    status: run.status,
    statusLabel: statusLabel(run.status),
    cost: run.cost,
    error: run.status === 'failed' ? (run.errorMessage ?? 'The run failed.') : null,
    refunded: !!run.refundedAt,
    downloadUrl: ready ? `/tasks/${taskId}/runs/${run.id}/download` : null,
    finishedAt: run.finishedAt?.toFormat('yyyy-LL-dd HH:mm') ?? null,
    /* For <time datetime>: the page shows it in the visitor's time zone. */
    finishedAtIso: run.finishedAt?.toUTC().toISO({ suppressMilliseconds: true }) ?? null,
    videoUrl: ready ? `/tasks/${taskId}/runs/${run.id}/video` : null,
    posterUrl: ready && run.posterKey ? `/tasks/${taskId}/runs/${run.id}/poster` : null,
  }
}

/** A file name for a downloaded result: the task's name, made safe. */
export function resultFileName(taskName: string, runNumber: number) {
  const base =
    taskName
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .replace(/\s+/g, '-')
      .slice(0, 60) || 'clip'
  return `${base}-run-${runNumber}.mp4`
}
