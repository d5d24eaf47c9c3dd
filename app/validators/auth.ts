import vine from '@vinejs/vine'

/*
 * Emails are normalised (trimmed, lower-cased) before any lookup. Length caps
 * keep 10 KB inputs from reaching the hasher or the database.
 */
/* ASCII only: internationalised addresses need SMTPUTF8, which many relays lack. */
const email = () =>
  vine
    .string()
    .trim()
    .maxLength(254)
    .regex(/^[\x21-\x7e]+$/)
    .email()
    .toLowerCase()
const newPassword = () =>
  vine.string().minLength(8).maxLength(128).confirmed({ confirmationField: 'passwordConfirmation' })

export const signupValidator = vine.create({
  email: email(),
  password: newPassword(),
})

export const loginValidator = vine.create({
  email: email(),
  password: vine.string().maxLength(128),
})

export const forgotPasswordValidator = vine.create({
  email: email(),
})

export const resetPasswordValidator = vine.create({
  password: newPassword(),
})
