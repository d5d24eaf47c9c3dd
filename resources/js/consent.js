/*
 * The cookie banner (partials/site_footer.edge). The inline script in
 * partials/gtm_head.edge already set the Consent Mode defaults and replayed
 * a stored choice before GTM loaded; this file records a new choice:
 * localStorage for 6 months, `consent update` to GTM, and on Accept the
 * `vgen_consent_granted` event that lets the GA tag measure this page too.
 * The landing site (landing/src/components/ConsentBanner.astro) does the same.
 */
const KEY = 'vgen_consent'
const SIX_MONTHS_MS = 183 * 24 * 60 * 60 * 1000
const root = document.documentElement
const banner = document.querySelector('[data-consent-banner]')

function gtag() {
  window.dataLayer = window.dataLayer || []
  window.dataLayer.push(arguments)
}

function store(choice) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ choice, expires: Date.now() + SIX_MONTHS_MS }))
  } catch {
    /* Storage blocked: the choice holds for this page only. */
  }
}

function choose(choice) {
  store(choice)
  if (choice === 'granted') {
    gtag('consent', 'update', { analytics_storage: 'granted' })
    window.dataLayer.push({ event: 'vgen_consent_granted' })
  } else {
    gtag('consent', 'update', {
      analytics_storage: 'denied',
      ad_storage: 'denied',
      ad_user_data: 'denied',
      ad_personalization: 'denied',
    })
  }
  root.setAttribute('data-consent', choice)
  root.removeAttribute('data-consent-open')
}

function open() {
  const current = root.getAttribute('data-consent')
  const note = banner.querySelector('[data-consent-current]')
  note.textContent =
    current === 'granted'
      ? 'You accepted analytics cookies.'
      : current === 'denied'
        ? 'You rejected analytics cookies.'
        : ''
  root.setAttribute('data-consent-open', '')
  banner.querySelector('[data-consent-choice]').focus()
}

if (banner) {
  banner.addEventListener('click', (event) => {
    const button = event.target.closest('[data-consent-choice]')
    if (button) choose(button.dataset.consentChoice)
  })
  document.addEventListener('click', (event) => {
    const link = event.target.closest('[data-consent-open]')
    if (!link) return
    event.preventDefault()
    open()
  })
}
