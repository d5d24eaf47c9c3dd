import vine from '@vinejs/vine'
import { models } from '#config/models'

const name = vine.string().trim().minLength(1).maxLength(120)

export const createTaskValidator = vine.create({
  name,
  model: vine.enum(models.map((model) => model.key)),
})

export const renameTaskValidator = vine.create({ name })
