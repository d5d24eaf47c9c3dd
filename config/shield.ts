import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/shield'

/*
 * CSP: scripts only from our origin or carrying the per-request nonce
 * (`@nonce`). Google Tag Manager and GA4 get exactly what Google's CSP
 * guide lists for them: gtm.js, GA's beacons (connect, image fallback)
 * and the noscript iframe.
 */
const gtm = 'https://*.googletagmanager.com'
const gaHits = ['https://*.google-analytics.com', 'https://*.analytics.google.com']

const shieldConfig = defineConfig({
  csp: {
    enabled: true,
    directives: {
      defaultSrc: [`'self'`],
      scriptSrc: [`'self'`, '@nonce', gtm],
      styleSrc: [`'self'`, '@nonce'],
      imgSrc: [`'self'`, 'data:', 'blob:', gtm, 'https://*.google-analytics.com'],
      mediaSrc: [`'self'`, 'blob:'],
      connectSrc: [
        `'self'`,
        gtm,
        ...gaHits,
        /* Vite's dev server pushes reloads over a websocket (development and tests only). */
        ...(app.inProduction ? [] : ['ws:']),
      ],
      /* 'self' outside production: the dev mailbox frames a mail's HTML part. */
      frameSrc: ['https://www.googletagmanager.com', ...(app.inProduction ? [] : [`'self'`])],
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
