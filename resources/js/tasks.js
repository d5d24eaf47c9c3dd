/*
 * Task page: uploads with a progress bar, and the run status kept up to
 * date without reloading (polls a small JSON endpoint while a run is active).
 * Without JavaScript the forms still work and a reload shows the status.
 */

function setBadge(badge, status, label) {
  if (!badge) return
  badge.className = `status-badge status-${status}`
  badge.dataset.status = status
  badge.textContent = label
}

function initUploads() {
  document.querySelectorAll('form[data-upload]').forEach((form) => {
    const input = form.querySelector('input[type="file"]')
    const progress = form.querySelector('progress')
    const message = form.querySelector('.upload-message')
    const button = form.querySelector('button[type="submit"]')
    const finish = (text) => {
      message.textContent = text
      progress.hidden = true
      button.disabled = false
      button.removeAttribute('aria-busy')
    }
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      const file = input.files[0]
      if (!file) return finish('Please choose a file first.')
      if (file.size > Number(form.dataset.maxBytes)) {
        return finish(`This file is too large. The limit is ${form.dataset.limitText}.`)
      }
      /*
       * The file itself is the body (no multipart): the server writes the
       * bytes straight to disk. The form's multipart POST is the fallback
       * without JavaScript.
       */
      const xhr = new XMLHttpRequest()
      xhr.open('PUT', form.dataset.uploadUrl)
      xhr.setRequestHeader('Content-Type', 'application/octet-stream')
      xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name))
      xhr.setRequestHeader('X-CSRF-Token', form.dataset.csrfToken)
      xhr.setRequestHeader('Accept', 'application/json')
      xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest')
      xhr.upload.addEventListener('progress', (progressEvent) => {
        if (!progressEvent.lengthComputable) return
        progress.value = Math.round((progressEvent.loaded / progressEvent.total) * 100)
        message.textContent = `Uploading… ${progress.value}%`
      })
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          message.textContent = 'Uploaded.'
          window.location.reload()
          return
        }
        let text = 'The upload failed. Please try again.'
        try {
          text = JSON.parse(xhr.responseText).error.message || text
        } catch {}
        finish(text)
      })
      xhr.addEventListener('error', () =>
        finish(
          `The upload was interrupted. Check the file (limit: ${form.dataset.limitText}) and try again.`
        )
      )
      progress.hidden = false
      progress.value = 0
      button.disabled = true
      button.setAttribute('aria-busy', 'true')
      message.textContent = 'Uploading…'
      xhr.send(file)
    })
  })
}

function applyStatus(data) {
  setBadge(document.getElementById('task-status'), data.status, data.statusLabel)
  data.runs.forEach((run) => {
    const row = document.querySelector(`tr[data-run-id="${run.id}"]`)
    if (!row) return
    setBadge(row.querySelector('.status-badge'), run.status, run.statusLabel)
    if (run.finishedAt) row.querySelector('[data-field="finished"]').textContent = run.finishedAt
    const result = row.querySelector('[data-field="result"]')
    if (run.downloadUrl && !result.querySelector('a')) {
      const link = document.createElement('a')
      link.href = run.downloadUrl
      link.setAttribute('download', '')
      link.textContent = 'Download MP4'
      result.replaceChildren(link)
    } else if (run.error && !result.querySelector('.field-error')) {
      const note = document.createElement('small')
      note.className = 'field-error'
      note.textContent = run.error + (run.refunded ? ' Tokens refunded.' : '')
      result.replaceChildren(note)
    }
  })
  const balance = document.getElementById('header-balance')
  if (balance) balance.textContent = new Intl.NumberFormat('en-US').format(data.balance)
  if (!data.active) {
    document.querySelectorAll('[data-idle-only]').forEach((element) => (element.disabled = false))
    const progress = document.getElementById('run-progress')
    if (progress)
      progress.textContent =
        data.status === 'succeeded' ? 'Your clip is ready.' : 'The run has finished.'
  }
}

function initLiveStatus() {
  const live = document.getElementById('task-live')
  if (!live || live.dataset.active !== 'true') return
  const poll = async () => {
    try {
      const response = await fetch(live.dataset.statusUrl, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      })
      if (response.ok) {
        const data = await response.json()
        applyStatus(data)
        if (!data.active) return
      }
    } catch {}
    setTimeout(poll, 1500)
  }
  setTimeout(poll, 1000)
}

initUploads()
initLiveStatus()
