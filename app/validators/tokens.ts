import type { HttpContext } from '@adonisjs/core/http'
import vine, { SimpleErrorReporter, SimpleMessagesProvider, errors } from '@vinejs/vine'
import { prices } from '#config/prices'

const PACK_MESSAGE = 'Please choose one of the packs below.'

/**
 * A wrong pack choice. The pack buttons have no field to mark, so the
 * message goes to the top of /tokens (whichever page the button was on).
 */
class PackChoiceError extends errors.E_VALIDATION_ERROR {
  handle(error: PackChoiceError, ctx: HttpContext) {
    ctx.session.flash('error', error.messages[0]?.message ?? PACK_MESSAGE)
    return ctx.response.redirect('/tokens')
  }
}

class PackChoiceReporter extends SimpleErrorReporter {
  createError() {
    return new PackChoiceError(this.errors)
  }
}

/** `POST /tokens/orders {pack}`: one of the configured packs, by exact name. */
export const packChoiceValidator = vine.create({
  pack: vine.enum(prices.map((pack) => pack.name)),
})
packChoiceValidator.messagesProvider = new SimpleMessagesProvider({
  'pack.required': PACK_MESSAGE,
  'pack.enum': PACK_MESSAGE,
})
packChoiceValidator.errorReporter = () => new PackChoiceReporter()
