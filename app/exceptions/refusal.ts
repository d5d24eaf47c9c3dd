import { AuthorizationResponse } from '@adonisjs/bouncer'
import DomainException from '#exceptions/domain_exception'

/**
 * A policy's "no" that says why, as the domain exception the user sees
 * (message, status, code, where the page shows it). The exception handler
 * renders a Bouncer authorization failure carrying one like the exception.
 */
export class Refusal extends AuthorizationResponse {
  constructor(public exception: DomainException) {
    super(false)
    this.message = exception.message
    this.status = exception.status
  }
}

/** Another user's resource does not exist for this user. */
export class NotFoundException extends DomainException {
  static status = 404
  static code = 'E_NOT_FOUND'
  static message = 'Not found'
}

export function refuse(exception: DomainException) {
  return new Refusal(exception)
}
