import vine, { SimpleMessagesProvider } from '@vinejs/vine'
import { models } from '#config/models'

const name = vine.string().trim().minLength(1).maxLength(120)

const messages = new SimpleMessagesProvider({
  'name.required': 'Please give the task a name.',
  'name.minLength': 'Please give the task a name.',
  'name.maxLength': 'Must be at most {{ max }} characters.',
  'model.required': 'Please choose a model.',
  'model.enum': 'Please choose one of the listed models.',
})

/** `POST /tasks {name, model}`. */
export const createTaskValidator = vine.create({
  name,
  model: vine.enum(models.map((model) => model.key)),
})
createTaskValidator.messagesProvider = messages

/** `POST /tasks/:id/rename {name}`. */
export const renameTaskValidator = vine.create({ name })
renameTaskValidator.messagesProvider = messages
