import { execFile } from 'node:child_process'
import { open, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { fileTypeFromBuffer } from 'file-type'
import generationConfig from '#config/generation'
import type { InputKind } from '#config/models'
import { UploadRejectedException } from '#exceptions/task_exceptions'
import { formatSeconds } from '#helpers/formatting'

const run = promisify(execFile)

/* Containers accepted per slot, judged from the file's first bytes. */
const VIDEO_TYPES = new Set(['mp4', 'mov', 'm4v', 'webm', 'mkv', 'avi', '3gp'])
const AUDIO_TYPES = new Set([
  'mp3',
  'm4a',
  'aac',
  'wav',
  'ogg',
  'oga',
  'opus',
  'flac',
  'webm',
  'mp4',
  'mka',
])
const ISO_BMFF = new Set(['mp4', 'mov', 'm4v', 'm4a', '3gp'])

/** Bytes file-type needs to recognise a container. */
export const SNIFF_BYTES = 4100

export type Sniffed = { ext: string; mime: string }

/**
 * A complete file to probe: `input` is what ffprobe opens (a local path or
 * an http(s) URL: a presigned URL of an object in the bucket), `read` gets
 * bytes at a position (a file read, or a bounded ranged GET), `size` its length.
 */
export type MediaSource = {
  input: string
  size: number
  read(position: number, length: number): Promise<Buffer>
}

/** A file on the local disk. */
export async function localSource(path: string): Promise<MediaSource> {
  const { size } = await stat(path)
  return {
    input: path,
    size,
    async read(position, length) {
      const handle = await open(path, 'r')
      try {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - position)))
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
        return buffer.subarray(0, bytesRead)
      } finally {
        await handle.close()
      }
    },
  }
}

export type ProbeResult = {
  duration: number
  width: number | null
  height: number | null
  container: string
  mime: string
}

type FfprobeStream = {
  codec_type?: string
  width?: number
  height?: number
  disposition?: { attached_pic?: number }
}

/**
 * Judges a file's first bytes: the real type, whatever its name says. Throws
 * UploadRejectedException with a message for the user when it does not fit the slot.
 */
export async function sniffType(kind: InputKind, head: Buffer): Promise<Sniffed> {
  const type = await fileTypeFromBuffer(head)
  if (!type) {
    throw new UploadRejectedException(
      kind === 'video'
        ? 'This file is not a video we can read. Please upload an MP4, MOV, WebM or MKV video.'
        : 'This file is not an audio file we can read. Please upload an MP3, M4A, WAV, OGG or FLAC file.'
    )
  }
  if (kind === 'video' && !VIDEO_TYPES.has(type.ext)) {
    throw new UploadRejectedException(
      type.mime.startsWith('audio/')
        ? 'This is an audio file. Please upload it in the Audio slot and choose a video here.'
        : `A ${type.ext.toUpperCase()} file is not a video. Please upload an MP4, MOV, WebM or MKV video.`
    )
  }
  if (kind === 'audio' && !AUDIO_TYPES.has(type.ext)) {
    throw new UploadRejectedException(
      VIDEO_TYPES.has(type.ext)
        ? 'This is a video file. Please upload an audio file (MP3, M4A, WAV, OGG or FLAC) here.'
        : `A ${type.ext.toUpperCase()} file is not audio. Please upload an MP3, M4A, WAV, OGG or FLAC file.`
    )
  }
  return { ext: type.ext, mime: type.mime }
}

async function ffprobe(args: string[]) {
  return run(generationConfig.ffprobePath, ['-v', 'error', ...args], {
    maxBuffer: 8 * 1024 * 1024,
    timeout: 60_000,
  })
}

const DAMAGED =
  'We could not read this file: it seems damaged or incomplete. Please export it again and re-upload.'

type FfprobeOutput = {
  format?: { duration?: string }
  streams?: FfprobeStream[]
  packets?: { pts_time?: string; duration_time?: string }[]
}

/* What ffprobe says about a file whose data ends before its header says it should. */
const CUT_SHORT = /partial file|ended prematurely|truncat|moov atom not found|invalid data found/i

/**
 * Probes the media with one ffprobe call: the slot's stream must exist, the
 * duration must be known and within the limit, and the file must not be cut
 * short (the packets of its last seconds are read: a cut-off upload ends
 * early or reports a partial file).
 */
export async function probeMedia(
  kind: InputKind,
  source: MediaSource,
  sniffed: Sniffed
): Promise<ProbeResult> {
  let info: FfprobeOutput
  let stderr = ''
  try {
    const result = await ffprobe([
      '-read_intervals',
      '999999%',
      '-show_entries',
      'format=duration:stream=codec_type,width,height:stream_disposition=attached_pic:packet=pts_time,duration_time',
      '-print_format',
      'json',
      source.input,
    ])
    stderr = result.stderr
    info = JSON.parse(result.stdout)
  } catch {
    throw new UploadRejectedException(DAMAGED)
  }
  const streams = info.streams ?? []
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic)
  const audio = streams.find((s) => s.codec_type === 'audio')

  if (kind === 'video' && !video) {
    throw new UploadRejectedException(
      audio
        ? 'This file has sound but no picture. Please upload it in the Audio slot and choose a video here.'
        : 'This file has no video stream. Please upload a video.'
    )
  }
  if (kind === 'audio' && !audio)
    throw new UploadRejectedException('This file has no audio stream. Please upload an audio file.')
  if (kind === 'audio' && video) {
    throw new UploadRejectedException(
      'This is a video file. Please upload an audio file (MP3, M4A, WAV, OGG or FLAC) here.'
    )
  }

  const duration = Number(info.format?.duration)
  if (!Number.isFinite(duration) || duration <= 0) throw new UploadRejectedException(DAMAGED)
  const max = generationConfig.uploads.maxDurationSeconds
  if (duration > max) {
    throw new UploadRejectedException(
      `This file is ${formatSeconds(duration)} long; the limit is ${formatSeconds(max)}. Please trim it and re-upload.`
    )
  }

  if (CUT_SHORT.test(stderr)) throw new UploadRejectedException(DAMAGED)
  if (ISO_BMFF.has(sniffed.ext) && (await isoBoxesTruncated(source)))
    throw new UploadRejectedException(DAMAGED)
  const packets = info.packets ?? []
  if (packets.length) {
    const last = Math.max(
      ...packets.map((p) => Number(p.pts_time ?? 0) + Number(p.duration_time ?? 0))
    )
    if (last < duration - Math.max(1, duration * 0.05)) throw new UploadRejectedException(DAMAGED)
  }

  return {
    duration: Math.round(duration * 1000) / 1000,
    width: video?.width ?? null,
    height: video?.height ?? null,
    container: sniffed.ext,
    mime: sniffed.mime,
  }
}

/* Top-level boxes looked at, at most (a real file has a handful; each is one small read). */
const MAX_TOP_LEVEL_BOXES = 1000

/**
 * MP4/MOV: a top-level box that claims more bytes than the file has means
 * it was cut off. Reads 16 bytes per box (a ranged GET each on the bucket).
 */
async function isoBoxesTruncated(source: MediaSource) {
  const { size } = source
  let offset = 0
  for (let boxes = 0; offset + 8 <= size; boxes++) {
    if (boxes >= MAX_TOP_LEVEL_BOXES) return true
    const header = await source.read(offset, 16)
    if (header.length < 8) return true
    let boxSize = header.readUInt32BE(0)
    if (boxSize === 1) {
      if (header.length < 16) return true
      boxSize = Number(header.readBigUInt64BE(8))
    } else if (boxSize === 0) return false /* "to the end of the file" */
    if (boxSize < 8) return true
    offset += boxSize
  }
  return offset > size
}

/**
 * Whether a file is a complete MP4: top-level boxes from `ftyp` to the
 * end whose sizes add up to the file's size exactly, with a `moov` and the
 * media (`mdat`, or `moof` fragments). Catches a cut or foreign download
 * (an HTML error page, a half-copied file) without starting a process: the
 * worker checks every generated output with it.
 */
export async function mp4Intact(path: string) {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    const header = Buffer.alloc(16)
    const seen = new Set<string>()
    let offset = 0
    while (offset < size) {
      if (size - offset < 8) return false
      await handle.read(header, 0, 16, offset)
      let boxSize = header.readUInt32BE(0)
      const type = header.toString('latin1', 4, 8)
      if (!/^[\x20-\x7e]{4}$/.test(type)) return false
      if (offset === 0 && type !== 'ftyp') return false
      if (boxSize === 1) {
        if (size - offset < 16) return false
        boxSize = Number(header.readBigUInt64BE(8))
      } else if (boxSize === 0) {
        boxSize = size - offset
      }
      if (boxSize < 8 || offset + boxSize > size) return false
      seen.add(type)
      offset += boxSize
    }
    return seen.has('moov') && (seen.has('mdat') || seen.has('moof'))
  } finally {
    await handle.close()
  }
}
