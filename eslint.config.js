import { configApp } from '@adonisjs/eslint-config'

export default configApp(
  {
    ignores: ['landing/**', 'build/**', 'public/assets/**', 'tmp/**', 'storage/**', '.adonisjs/**'],
  },
  {
    rules: {
      /* `(await x).y` reads fine and is shorter than a temporary variable. */
      '@unicorn/no-await-expression-member': 'off',
    },
  }
)
