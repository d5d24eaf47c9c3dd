import DomainException from '#exceptions/domain_exception'

/*
 * What an operator can get wrong through the internal API or the Ace
 * commands. The API answers them as `{"error": {"code", "message"}}`; the
 * commands print the message and exit non-zero.
 */

/** The body is not a JSON object (bad content type, not JSON, not an object). */
export class InvalidBodyException extends DomainException {
  static status = 400
  static code = 'E_INVALID_BODY'
}

/** No user with this userID (or email). */
export class UnknownUserException extends DomainException {
  static status = 404
  static code = 'E_UNKNOWN_USER'
  static message = 'No user with this userID'
}

/** The same Idempotency-Key used before for another user or another diff. */
export class IdempotencyKeyReusedException extends DomainException {
  static status = 409
  static code = 'E_IDEMPOTENCY_KEY_REUSED'
  static message = 'This Idempotency-Key was already used for a different change'
}

/** A manual debit larger than the balance: refused (and logged in the ledger), nothing changed. */
export class InsufficientBalanceException extends DomainException {
  static status = 409
  static code = 'E_INSUFFICIENT_BALANCE'

  constructor(balance: number, diff: number) {
    super(`The balance is ${balance}; a diff of ${diff} would make it negative. Nothing changed.`)
  }
}
