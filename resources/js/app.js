/* Small progressive enhancements; every page works without them. */

// Task page: uploads with progress, live run status.
import './tasks.js'

// The cookie banner: consent choice for Google Analytics.
import './consent.js'

// Ask before actions that spend tokens or delete data: <button data-confirm="..."> (@!submit)
document.addEventListener('submit', (event) => {
  const form = event.target
  const question = event.submitter?.dataset.confirm
  if (form instanceof HTMLFormElement && question) {
    if (!window.confirm(question)) {
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

// The receipt's Print button.
document.addEventListener('click', (event) => {
  if (event.target instanceof Element && event.target.closest('[data-print]')) window.print()
})
