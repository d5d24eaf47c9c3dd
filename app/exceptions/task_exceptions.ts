import DomainException from '#exceptions/domain_exception'

/*
 * Refusals on the task pages. The task page shows them as a flash message
 * (`error`, or `launchError` next to the Launch button); the uploader gets
 * them as JSON.
 */

/** What cannot be done while a run of the task is queued or running. */
const WHILE_ACTIVE = {
  delete: 'This task has a run in progress. Delete it once the run has finished.',
  replaceInput: 'A run is in progress. You can replace files once it has finished.',
  launch: 'A run of this task is already in progress. Wait for it to finish.',
} as const

/** Not one of the listed models (a task is created with one). */
export class UnknownModelException extends DomainException {
  static status = 400
  static code = 'E_TASK_ERROR'
  static message = 'Please choose one of the listed models.'
}

/** Deleting a task or replacing an input while a run is active. */
export class RunActiveException extends DomainException {
  static status = 409
  static code = 'E_RUN_ACTIVE'

  constructor(action: 'delete' | 'replaceInput') {
    super(WHILE_ACTIVE[action])
  }
}

/** A slot the task's model does not have (`/inputs/audio` on a video-only model). */
export class UnknownInputException extends DomainException {
  static status = 404
  static code = 'E_UNKNOWN_INPUT'
  static message = 'This task does not take that kind of file.'
}

/** An upload that was refused (size, type, unreadable, broken off); nothing was stored. */
export class UploadRejectedException extends DomainException {
  static status = 422
  static code = 'E_UPLOAD_REJECTED'

  constructor(message: string, status = 422) {
    super(message, { status })
  }
}

/**
 * Why a run was not launched: shown next to the Launch button, with a link
 * when there is something to do (buy tokens). Nothing was charged.
 */
export class LaunchRefusedException extends DomainException {
  static status = 422
  static code = 'E_TASK_ERROR'
  link: { href: string; label: string } | null = null

  constructor(taskId: string, message?: string, options?: { status?: number; code?: string }) {
    super(message, options)
    this.redirectTo = `/tasks/${taskId}`
  }

  flashMessage(): [string, Record<string, unknown>] {
    return ['launchError', { message: this.message, link: this.link }]
  }
}

/** A second launch while a run is active (the policy, or a concurrent launch losing the race). */
export class LaunchWhileActiveException extends LaunchRefusedException {
  static status = 409
  static code = 'E_RUN_ACTIVE'

  constructor(taskId: string) {
    super(taskId, WHILE_ACTIVE.launch)
  }
}

export class InputsMissingException extends LaunchRefusedException {
  static code = 'E_INPUTS_MISSING'

  constructor(taskId: string, missing: string[]) {
    super(taskId, `Upload the ${missing.join(' and ').toLowerCase()} first.`)
  }
}

export class ModelUnavailableException extends LaunchRefusedException {
  static message = 'This model is no longer available. Create a new task.'
}

export const MODEL_UNAVAILABLE =
  'This model cannot be run at the moment: no generation service for it is set up. Create a task with another model.'

/** No generation service is set up for the task's model (see provider routing). */
export class NoProviderException extends LaunchRefusedException {
  static code = 'E_MODEL_UNAVAILABLE'
  static message = MODEL_UNAVAILABLE
}

/** The balance does not cover the run: the refused debit is in the ledger, no run was created. */
export class NotEnoughTokensException extends LaunchRefusedException {
  static status = 402
  static code = 'E_NOT_ENOUGH_TOKENS'
  link = { href: '/tokens', label: 'Buy tokens' }

  constructor(
    taskId: string,
    public cost: number,
    public balance: number
  ) {
    super(
      taskId,
      `This run costs ${cost.toLocaleString('en-US')} tokens but your balance is ${balance.toLocaleString('en-US')}. Buy tokens to launch it.`
    )
  }
}

/** The storage service failed the put (a 5xx, no connection): nothing was stored, the user may retry. */
export class StorageUnavailableException extends DomainException {
  static status = 503
  static code = 'E_STORAGE_UNAVAILABLE'
  static message =
    'The storage service is not available right now. Nothing was changed; please try again in a moment.'
}

/** The store kept other bytes than were sent (the object was deleted): the user may retry. */
export class UploadNotStoredException extends DomainException {
  static status = 502
  static code = 'E_STORAGE_MISMATCH'
  static message =
    'The file could not be stored intact (the storage service kept different bytes). Nothing was changed; please try again.'
}
