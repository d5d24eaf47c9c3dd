import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, stores } from '@adonisjs/session'

/*
 * Sessions live in a signed, encrypted cookie so that GET requests never
 * write to the database (the app stays LiteFS-ready). Ending sessions early
 * (password reset, blocking) is done by comparing the user's session
 * version on every request, see the silent auth middleware.
 */
const sessionConfig = defineConfig({
  enabled: true,
  cookieName: 'vgen-session',
  clearWithBrowser: false,
  age: '7d',
  cookie: {
    path: '/',
    httpOnly: true,
    secure: app.inProduction,
    sameSite: 'lax',
  },
  store: env.get('SESSION_DRIVER') ?? 'cookie',
  stores: {
    cookie: stores.cookie(),
  },
})

export default sessionConfig
