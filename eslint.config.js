import { configApp } from '@adonisjs/eslint-config'

export default configApp({
  ignores: ['landing/**', 'build/**', 'public/assets/**', 'tmp/**', 'storage/**', '.adonisjs/**'],
})
