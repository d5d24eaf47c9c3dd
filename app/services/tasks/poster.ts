import { execFile } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import generationConfig from '#config/generation'
import mediaStorage from '#integrations/storage/media_storage'
import { limitConcurrency } from '#helpers/concurrency'

const run = promisify(execFile)

/*
 * Many runs can finish at once (a hosted provider answering a batch): their
 * poster frames are taken as many at a time as local renders may run, each
 * ffmpeg keeping a core busy, the rest waiting their turn.
 */
const posterSlots = limitConcurrency(generationConfig.localMaxRenders)

/* Small enough for a list thumbnail, sharp enough as the player's poster. */
const POSTER_WIDTH = 640
const FFMPEG_TIMEOUT_MS = 30_000

/**
 * Extracts one frame (half a second in, or the first one for shorter clips)
 * of the stored video `videoKey` as a JPEG under `posterKey`. ffmpeg reads
 * the local file, or a short-lived presigned URL on object storage. False
 * when the storage offers neither.
 */
export function extractPosterFrame(videoKey: string, posterKey: string) {
  return posterSlots(() => extractNow(videoKey, posterKey))
}

async function extractNow(videoKey: string, posterKey: string) {
  const source =
    mediaStorage.localPath(videoKey) ?? (await mediaStorage.presignedUrl(videoKey, 300))
  if (!source) return false
  const target = await mediaStorage.newStagingPath()
  const file = `${target}.jpg`
  const args = (seek: string) => [
    '-v',
    'error',
    '-y',
    '-ss',
    seek,
    '-i',
    source,
    '-frames:v',
    '1',
    '-vf',
    `scale='min(${POSTER_WIDTH},iw)':-2`,
    '-q:v',
    '4',
    file,
  ]
  try {
    await run(generationConfig.ffmpegPath, args('0.5'), { timeout: FFMPEG_TIMEOUT_MS })
    /* A clip shorter than the seek gives no frame (ffmpeg exits 0): take the first one. */
    if (!(await exists(file))) {
      await run(generationConfig.ffmpegPath, args('0'), { timeout: FFMPEG_TIMEOUT_MS })
    }
    if (!(await exists(file))) return false
    await mediaStorage.commitLocalFile(file, posterKey)
    return true
  } finally {
    await mediaStorage.removeLocal(file).catch(() => {})
  }
}

async function exists(path: string) {
  return stat(path).then(
    (info) => info.size > 0,
    () => false
  )
}
