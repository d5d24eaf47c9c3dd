import { Exception } from '@adonisjs/core/exceptions'
import { errors as vineErrors } from '@vinejs/vine'

/**
 * A refusal written for the person who caused it: `message` is shown as it
 * is and nothing has changed. The exception handler renders it as JSON
 * `{"error": {"code", "message"}}` for JSON clients, as the error page for a
 * page request or a missing resource (404), and otherwise as a flash
 * message back on the form (`redirectTo`, else the previous page).
 *
 * Subclasses set `static status`, `static code` (`E_SOMETHING`, sent as
 * `something`) and usually `static message`.
 */
export default class DomainException extends Exception {
  static status = 400

  /** The page the form is on; the previous page when unset. */
  redirectTo?: string

  /** The code JSON clients get: `E_UNKNOWN_USER` → `unknown_user`. */
  get jsonCode() {
    return (this.code ?? 'E_BAD_REQUEST').replace(/^E_/, '').toLowerCase()
  }

  /** The flash message a page shows for it (key and value). */
  flashMessage(): [string, string | Record<string, unknown>] {
    return ['error', this.message]
  }

  /** Sets where the form page is, for the flash back. */
  backTo(url: string) {
    this.redirectTo = url
    return this
  }
}

/**
 * The message to show an operator for an error they caused (a refusal or
 * invalid input), or null for anything else (a bug: let it surface).
 */
export function operatorMessage(error: unknown): string | null {
  if (error instanceof DomainException) return error.message
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    const first = (error.messages as { message: string }[])[0]
    return first?.message ?? 'The input is not valid'
  }
  return null
}
