import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/shield'

/*
 * CSP: scripts only from our origin or carrying the per-request nonce
 * (`@nonce`), plus Google Tag Manager / Analytics, which GTM loads itself.
 */
const gtm = ['https://www.googletagmanager.com', 'https://www.google-analytics.com']

const shieldConfig = defineConfig({
  csp: {
    enabled: true,
    directives: {
      defaultSrc: [`'self'`],
      scriptSrc: [`'self'`, '@nonce', ...gtm],
      styleSrc: [`'self'`, '@nonce'],
      imgSrc: [`'self'`, 'data:', 'blob:', ...gtm],
      mediaSrc: [`'self'`, 'blob:'],
      connectSrc: [
        `'self'`,
        ...gtm,
        'https://*.google-analytics.com',
        'https://*.analytics.google.com',
        ...(app.inDev ? ['ws:'] : []),
      ],
      frameSrc: ['https://www.googletagmanager.com'],
      objectSrc: [`'none'`],
      baseUri: [`'self'`],
      formAction: [`'self'`],
      frameAncestors: [`'none'`],
    },
    reportOnly: false,
  },
  csrf: {
    enabled: true,
    /* Machine-to-machine endpoints authenticate differently (token or verification). */
    exceptRoutes: (ctx) =>
      ctx.request.url().startsWith('/api/') || ctx.request.url().startsWith('/webhooks/'),
    enableXsrfCookie: false,
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  },
  xFrame: { enabled: true, action: 'DENY' },
  hsts: { enabled: app.inProduction, maxAge: '180 days', includeSubDomains: true },
  contentTypeSniffing: { enabled: true },
})

export default shieldConfig
