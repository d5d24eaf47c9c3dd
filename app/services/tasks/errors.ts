/**
 * Errors whose message is written for the customer. Controllers show the
 * message as it is (flash or JSON) and nothing has changed.
 */
export class TaskError extends Error {
  constructor(
    message: string,
    public status = 400,
    public code = 'task_error',
    /* Optional link shown with the message (e.g. to buy tokens) */
    public link?: { href: string; label: string }
  ) {
    super(message)
  }
}

export class UploadRejected extends TaskError {
  constructor(message: string, status = 422) {
    super(message, status, 'upload_rejected')
  }
}

export class NotEnoughTokens extends TaskError {
  constructor(
    public cost: number,
    public balance: number
  ) {
    super(
      `This run costs ${cost.toLocaleString('en-US')} tokens but your balance is ${balance.toLocaleString('en-US')}. Buy tokens to launch it.`,
      402,
      'not_enough_tokens',
      { href: '/tokens', label: 'Buy tokens' }
    )
  }
}
