import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/core/http'
import proxyaddr from 'proxy-addr'

/** The public base URL, without a trailing slash: links in mails, webhooks and signed URLs start with it. */
export const appUrl = env.get('APP_URL').replace(/\/+$/, '')

/** Proxies whose X-Forwarded-For we believe (comma-separated IPs or CIDRs). */
const trustedProxies = (env.get('TRUSTED_PROXIES') ?? '')
  .split(',')
  .map((entry) => entry.trim())
  .filter(Boolean)

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: true,
  useAsyncLocalStorage: true,
  trustProxy: trustedProxies.length ? proxyaddr.compile(trustedProxies) : () => false,
  cookie: {
    domain: '',
    path: '/',
    maxAge: '2h',
    httpOnly: true,
    secure: app.inProduction,
    sameSite: 'lax',
  },
})
