import vine from '@vinejs/vine'

/* Field names as the account page's forms send them (issue 11). */
export const changePasswordValidator = vine.create({
  currentPassword: vine.string().maxLength(128),
  password: vine
    .string()
    .minLength(8)
    .maxLength(128)
    .confirmed({ confirmationField: 'passwordConfirmation' }),
})

export const deleteAccountValidator = vine.create({
  password: vine.string().maxLength(128),
})

/* Unchecked boxes are absent from the body: absent means off. */
export const notificationsValidator = vine.create({
  notifyRuns: vine.boolean().optional(),
  notifyLowBalance: vine.boolean().optional(),
})
