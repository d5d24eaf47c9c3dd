// Build-time configuration. Read once from the environment when Astro builds the
// site; nothing here reaches the browser except the values baked into the HTML.
// Plain erasable TypeScript so tests can import it with Node directly.

export const DEFAULTS = {
  APP_URL: 'http://localhost:3333',
  GTM_ID: 'GTM-XXXXXXX',
  TELEGRAM_SUPPORT_URL: 'https://t.me/vgen_support_bot',
  /** Consent Mode v2 default before a visitor chooses (the banner): denied or granted. */
  CONSENT_DEFAULT: 'denied',
} as const

export interface SiteConfig {
  appUrl: string
  signupUrl: string
  gtmId: string
  telegramSupportUrl: string
  consentDefault: 'denied' | 'granted'
  /** The app's host name: GA links it with this site's (cross-domain measurement). */
  appHost: string
}

type Env = Record<string, string | undefined>

function httpUrl(name: string, value: string, requireHttps: boolean): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${name} must be an absolute URL, got ${JSON.stringify(value)}`)
  }
  const allowed = requireHttps ? ['https:'] : ['https:', 'http:']
  if (!allowed.includes(url.protocol) || url.username || url.password) {
    throw new Error(`${name} must be an ${requireHttps ? 'https' : 'http(s)'} URL without credentials, got ${JSON.stringify(value)}`)
  }
  return url.href.replace(/\/+$/, '')
}

/**
 * Turns the environment into the site's config. Empty values count as unset.
 * On a Netlify production deploy (CONTEXT=production) APP_URL and GTM_ID must be
 * set explicitly: a live site must not point its CTAs at localhost or report to a
 * placeholder container.
 */
export function loadConfig(env: Env = process.env): SiteConfig {
  const get = (name: keyof typeof DEFAULTS) => {
    const v = env[name]?.trim()
    return v ? v : undefined
  }
  if (env.CONTEXT === 'production') {
    const missing = (['APP_URL', 'GTM_ID'] as const).filter((n) => !get(n))
    if (missing.length) throw new Error(`Production build needs ${missing.join(' and ')} to be set`)
  }

  const appUrl = httpUrl('APP_URL', get('APP_URL') ?? DEFAULTS.APP_URL, false)
  if (new URL(appUrl).search || new URL(appUrl).hash) {
    throw new Error('APP_URL must not carry a query string or fragment')
  }
  const gtmId = (get('GTM_ID') ?? DEFAULTS.GTM_ID).toUpperCase()
  if (!/^GTM-[A-Z0-9]{4,12}$/.test(gtmId)) {
    throw new Error(`GTM_ID must look like GTM-XXXXXXX, got ${JSON.stringify(gtmId)}`)
  }
  const telegramSupportUrl = httpUrl('TELEGRAM_SUPPORT_URL', get('TELEGRAM_SUPPORT_URL') ?? DEFAULTS.TELEGRAM_SUPPORT_URL, true)

  const consentDefault = (get('CONSENT_DEFAULT') ?? DEFAULTS.CONSENT_DEFAULT).toLowerCase()
  if (consentDefault !== 'denied' && consentDefault !== 'granted') {
    throw new Error(`CONSENT_DEFAULT must be denied or granted, got ${JSON.stringify(consentDefault)}`)
  }
  const appHost = new URL(appUrl).hostname.replace(/^www\./, '')

  return { appUrl, signupUrl: `${appUrl}/signup`, gtmId, telegramSupportUrl, consentDefault, appHost }
}

export const config: SiteConfig = loadConfig()
