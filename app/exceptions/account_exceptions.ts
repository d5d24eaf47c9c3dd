import DomainException from '#exceptions/domain_exception'

/* Refusals on the account page: shown on /account, nothing changed. */

export class WrongCurrentPasswordException extends DomainException {
  static status = 400
  static code = 'E_WRONG_CURRENT_PASSWORD'
  static message = 'Your current password is not correct. Nothing was changed.'
  redirectTo = '/account'
}

export class WrongPasswordForDeletionException extends DomainException {
  static status = 400
  static code = 'E_WRONG_PASSWORD'
  static message = 'That password is not correct. Your account was not deleted.'
  redirectTo = '/account'
}

export class DeleteWhileRunActiveException extends DomainException {
  static status = 409
  static code = 'E_RUN_ACTIVE'
  static message =
    'A run is still in progress. Wait until it has finished (or failed and been refunded), then delete your account.'
  redirectTo = '/account'
}
