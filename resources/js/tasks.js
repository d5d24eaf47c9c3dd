import * as tus from 'tus-js-client'

/*
 * Task page: resumable uploads with a progress bar, and the run status kept up to
 * date without reloading (polls a small JSON endpoint while a run is active).
 * Without JavaScript the forms still work and a reload shows the status.
 */

function setBadge(badge, status, label) {
  if (!badge) return
  badge.className = `status-badge status-${status}`
  badge.dataset.status = status
  badge.textContent = label
}

function formatBytes(bytes) {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB`
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`
  return `${Math.max(1, Math.round(bytes / 1024))} KB`
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '…'
  const total = Math.max(1, Math.round(seconds))
  if (total < 60) return `${total} s`
  const minutes = Math.floor(total / 60)
  if (minutes < 60) return `${minutes} min ${String(total % 60).padStart(2, '0')} s`
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`
}

/* Speed over the last few seconds of progress events (a sliding window). */
function speedMeter(windowMs = 5000) {
  let samples = []
  return {
    reset() {
      samples = []
    },
    add(bytes) {
      const now = performance.now()
      samples.push([now, bytes])
      while (samples.length > 2 && now - samples[0][0] > windowMs) samples.shift()
      const [t0, b0] = samples[0]
      return now - t0 > 250 ? ((bytes - b0) / (now - t0)) * 1000 : null
    },
  }
}

/* Retry waits after a failed request (then the error is shown): a back-off up to a minute. */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000]

/** The message of an error answer ({"error": {"message"}}), if the server sent one. */
function serverMessage(error) {
  const body = error && error.originalResponse ? error.originalResponse.getBody() : ''
  try {
    return JSON.parse(body).error.message || null
  } catch {
    return null
  }
}

/**
 * One input slot's uploader: resumable (tus) uploads to /uploads with a
 * progress bar, speed and time left; pause, resume and cancel; automatic
 * retries with back-off, waiting for the network to come back; after a
 * reload, choosing the same file again continues where it stopped (the
 * upload's URL is remembered per task, slot and file in localStorage).
 * Without JavaScript the form posts the file as multipart instead.
 */
function initUploader(form) {
  const input = form.querySelector('input[type="file"]')
  const progress = form.querySelector('progress')
  const message = form.querySelector('.upload-message')
  const stats = form.querySelector('.upload-stats')
  const button = form.querySelector('button[type="submit"]')
  const controls = form.querySelector('.upload-controls')
  const pauseButton = controls.querySelector('[data-upload-action="pause"]')
  const resumeButton = controls.querySelector('[data-upload-action="resume"]')
  const cancelButton = controls.querySelector('[data-upload-action="cancel"]')
  const meter = speedMeter()
  let upload = null
  let paused = false
  let waitingForNetwork = null

  const setBusy = (busy) => {
    button.disabled = busy
    input.disabled = busy
    if (busy) button.setAttribute('aria-busy', 'true')
    else button.removeAttribute('aria-busy')
    controls.hidden = !busy
  }
  const showPaused = (value) => {
    paused = value
    pauseButton.hidden = value
    resumeButton.hidden = !value
  }
  const finish = (text) => {
    if (waitingForNetwork) window.removeEventListener('online', waitingForNetwork)
    waitingForNetwork = null
    upload = null
    message.textContent = text
    progress.hidden = true
    stats.hidden = true
    setBusy(false)
  }
  const resume = () => {
    if (!upload) return
    meter.reset()
    showPaused(false)
    message.textContent = 'Uploading…'
    upload.start()
  }

  /* Offline: stop sending (the connection is gone) and continue once the network is back. */
  const waitForNetwork = () => {
    message.textContent = `Connection lost at ${progress.value}%. The upload continues when you are back online.`
    stats.hidden = true
    if (waitingForNetwork) return
    waitingForNetwork = () => {
      waitingForNetwork = null
      if (!paused) resume()
    }
    window.addEventListener('online', waitingForNetwork, { once: true })
  }
  window.addEventListener('offline', () => {
    if (!upload || paused || waitingForNetwork) return
    upload.abort()
    waitForNetwork()
  })

  pauseButton.addEventListener('click', () => {
    if (!upload) return
    upload.abort()
    showPaused(true)
    stats.hidden = true
    message.textContent = `Paused at ${progress.value}%. Resume when you are ready.`
  })
  resumeButton.addEventListener('click', resume)
  cancelButton.addEventListener('click', async () => {
    if (!upload) return
    const current = upload
    upload = null
    try {
      /* Terminates the upload on the server too (tus DELETE). */
      await current.abort(true)
    } catch {}
    finish('Upload cancelled.')
  })

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const file = input.files[0]
    if (!file) return finish('Please choose a file first.')
    if (file.size > Number(form.dataset.maxBytes)) {
      return finish(`This file is too large. The limit is ${form.dataset.limitText}.`)
    }
    const { taskId, kind } = form.dataset
    let resumedFrom = null
    const current = new tus.Upload(file, {
      endpoint: form.dataset.tusEndpoint,
      metadata: { task: taskId, kind, filename: file.name },
      headers: { 'X-CSRF-Token': form.dataset.csrfToken, 'X-Requested-With': 'XMLHttpRequest' },
      retryDelays: RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      fingerprint: async (chosen) =>
        ['vgen-upload', taskId, kind, chosen.name, chosen.size, chosen.lastModified].join(':'),
      onShouldRetry: (error) => {
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0
        /* Our refusals (4xx) are final; an offset conflict (409 on PATCH) or lock (423) is not. */
        const retryable =
          status === 0 ||
          status >= 500 ||
          status === 423 ||
          (status === 409 && error.originalRequest.getMethod() === 'PATCH')
        return retryable && navigator.onLine
      },
      onProgress: (sent, total) => {
        if (upload !== current) return
        const percent = total ? Math.floor((sent / total) * 100) : 0
        if (resumedFrom === null) resumedFrom = sent
        progress.value = percent
        const speed = meter.add(sent)
        const note =
          resumedFrom > 0 ? ` (resumed from ${Math.floor((resumedFrom / total) * 100)}%)` : ''
        message.textContent = `Uploading… ${percent}%${note}`
        if (speed) {
          stats.hidden = false
          stats.textContent = `${formatBytes(sent)} of ${formatBytes(total)} · ${formatBytes(speed)}/s · ${formatDuration((total - sent) / speed)} left`
        }
      },
      onSuccess: () => {
        message.textContent = 'Uploaded. Checking the file…'
        window.location.reload()
      },
      onError: (error) => {
        if (upload !== current) return
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0
        if (status === 0 && !navigator.onLine) return waitForNetwork()
        if (status === 0) {
          showPaused(true)
          message.textContent = `The upload was interrupted at ${progress.value}%. Press Resume to continue.`
          return
        }
        finish(serverMessage(error) || 'The upload failed. Please try again.')
      },
    })
    upload = current
    progress.hidden = false
    progress.value = 0
    showPaused(false)
    setBusy(true)
    message.textContent = 'Uploading…'
    meter.reset()
    try {
      const previous = await current.findPreviousUploads()
      if (previous.length) {
        previous.sort((a, b) => String(b.creationTime).localeCompare(String(a.creationTime)))
        current.resumeFromPreviousUpload(previous[0])
        message.textContent = 'Resuming the previous upload of this file…'
      }
    } catch {}
    current.start()
  })
}

function initUploads() {
  document.querySelectorAll('form[data-upload]').forEach(initUploader)
}

function applyStatus(data) {
  setBadge(document.getElementById('task-status'), data.status, data.statusLabel)
  data.runs.forEach((run) => {
    const row = document.querySelector(`tr[data-run-id="${run.id}"]`)
    if (!row) return
    setBadge(row.querySelector('.status-badge'), run.status, run.statusLabel)
    if (run.finishedAtIso) {
      const time = document.createElement('time')
      time.dateTime = run.finishedAtIso
      time.dataset.localTime = ''
      time.textContent = `${run.finishedAt} UTC`
      row.querySelector('[data-field="finished"]').replaceChildren(time)
      window.vgenLocalTimes?.(row)
    }
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
  const newest = data.runs.find((run) => run.videoUrl)
  if (newest) showResult(newest)
  if (!data.active) {
    document.querySelectorAll('[data-idle-only]').forEach((element) => (element.disabled = false))
    const progress = document.getElementById('run-progress')
    if (progress)
      progress.textContent =
        data.status === 'succeeded' ? 'Your clip is ready.' : 'The run has finished.'
  }
}

/** The player for a run that just succeeded (the page rendered without one, or with an older one). */
function showResult(run) {
  const current = document.querySelector('.result-player')
  if (current?.dataset.runId === run.id) return
  const section = document.createElement('section')
  section.className = 'result-player'
  section.dataset.runId = run.id
  const heading = document.createElement('h2')
  heading.textContent = `Result (run #${run.number})`
  const video = document.createElement('video')
  video.controls = true
  video.playsInline = true
  video.preload = 'none'
  video.dataset.testid = 'result-video'
  if (run.posterUrl) video.poster = run.posterUrl
  video.src = run.videoUrl
  const link = document.createElement('a')
  link.href = run.downloadUrl
  link.setAttribute('download', '')
  link.textContent = 'Download MP4'
  const paragraph = document.createElement('p')
  paragraph.append(link)
  section.append(heading, video, paragraph)
  if (current) current.replaceWith(section)
  else document.getElementById('task-live')?.after(section)
}

/* Earlier runs' previews get their poster only when opened (nothing loads before). */
document.addEventListener(
  'toggle',
  (event) => {
    const details = event.target
    if (!(details instanceof HTMLDetailsElement) || !details.open) return
    const video = details.querySelector('video[data-poster]')
    if (video && !video.poster) video.poster = video.dataset.poster
  },
  true
)

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
