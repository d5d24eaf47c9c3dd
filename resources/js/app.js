/* Small progressive enhancements; every page works without them. */

// Task page: uploads with progress, live run status.
import './tasks.js'

// The cookie banner: consent choice for Google Analytics.
import './consent.js'

// Ask before actions that spend tokens or delete data: <form data-confirm="...">
document.addEventListener('submit', (event) => {
  const form = event.target
  if (form instanceof HTMLFormElement && form.dataset.confirm) {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault()
      return
    }
  }
  // Prevent double submits (a double-clicked Launch must not send twice).
  if (form instanceof HTMLFormElement && !event.defaultPrevented) {
    if (form.dataset.submitting === 'true') {
      event.preventDefault()
      return
    }
    form.dataset.submitting = 'true'
    form.querySelectorAll('button[type="submit"]').forEach((button) => {
      button.setAttribute('aria-busy', 'true')
    })
  }
})
