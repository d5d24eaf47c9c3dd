import { Exception } from '@adonisjs/core/exceptions'
import DomainException from '#exceptions/domain_exception'

/* Refusals while buying tokens (the /tokens page) and from gateway postbacks (JSON). */

/** Not one of the configured packs: back to /tokens with the message. */
export class UnknownPackException extends DomainException {
  static status = 400
  static code = 'E_UNKNOWN_PACK'
  static message = 'Please choose one of the packs below.'
  redirectTo = '/tokens'
}

/** The order could not be sent to the provider; it is marked failed and nothing was charged. */
export class CheckoutUnavailableException extends DomainException {
  static status = 503
  static code = 'E_CHECKOUT_UNAVAILABLE'
  static message =
    'The payment provider is not available right now. You were not charged; please try again in a few minutes.'
  redirectTo = '/tokens'
}

/** A postback for a gateway or an order that does not exist. */
export class UnknownOrderException extends DomainException {
  static status = 404
  static code = 'E_UNKNOWN_ORDER'
  static message = 'No order matches this postback'
}

/** A postback without a usable payment id. */
export class InvalidPostbackException extends DomainException {
  static status = 400
  static code = 'E_INVALID_POSTBACK'
  static message = 'The postback has no valid paymentId'
}

/** A receipt exists only for a paid order: any other order has none (404, like a stranger's). */
export class ReceiptNotFoundException extends Exception {
  static status = 404
  static code = 'E_RECEIPT_NOT_FOUND'
  static message = 'This order has no receipt.'
}
