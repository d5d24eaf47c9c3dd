import { execFile } from 'node:child_process'
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'

const run = promisify(execFile)

/*
 * Tiny real media made by ffmpeg (1–2 s, low resolution), cached under
 * tmp/test-media so a test run generates each file once. Files are written
 * to a temporary name and renamed, so concurrent runs never see half a file.
 */
const dir = () => app.makePath('tmp/test-media')

const recipes: Record<string, string[]> = {
  'video.mp4': [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x120:rate=15',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=300:sample_rate=22050',
    '-t',
    '2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '32k',
    '-f',
    'mp4',
  ],
  'video-silent.webm': [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x120:rate=10',
    '-t',
    '1',
    '-c:v',
    'libvpx',
    '-b:v',
    '100k',
    '-f',
    'webm',
  ],
  'audio.mp3': [
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=500:sample_rate=22050',
    '-t',
    '1.5',
    '-c:a',
    'libmp3lame',
    '-b:a',
    '32k',
    '-f',
    'mp3',
  ],
  /* 6 s of noisy 640x360 at 40 Mbit/s: ~23 MB, for uploads that take a while (browser tests). */
  'video-large.mp4': [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=300:sample_rate=22050',
    '-t',
    '6',
    '-vf',
    'noise=alls=60:allf=t',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-b:v',
    '40M',
    '-maxrate',
    '40M',
    '-bufsize',
    '2M',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '32k',
    '-f',
    'mp4',
  ],
  /* 20 minutes of 8 kHz 8-bit silence: 9.6 MB, under the size limit but over the duration limit. */
  'audio-20min.wav': [
    '-f',
    'lavfi',
    '-i',
    'anullsrc=r=8000:cl=mono',
    '-t',
    '1200',
    '-c:a',
    'pcm_u8',
    '-f',
    'wav',
  ],
}

export async function media(
  name: keyof typeof recipes | 'text.mp4' | 'empty.mp4' | 'truncated.mp4'
) {
  const target = join(dir(), name)
  try {
    if ((await stat(target)).isFile()) return target
  } catch {}
  await mkdir(dir(), { recursive: true })
  const temp = `${target}.${process.pid}.tmp`
  if (name === 'text.mp4')
    await writeFile(temp, 'This is just a text file renamed to .mp4\n'.repeat(200))
  else if (name === 'empty.mp4') await writeFile(temp, '')
  else if (name === 'truncated.mp4') {
    const whole = await readFile(await media('video.mp4'))
    await writeFile(temp, whole.subarray(0, Math.floor(whole.length / 2)))
  } else {
    await run('ffmpeg', ['-v', 'error', '-y', ...recipes[name], temp])
  }
  await rename(temp, target)
  return target
}

/** Duration of a media file (ffprobe), e.g. to check a downloaded result. */
export async function probeDuration(path: string) {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    path,
  ])
  return Number(stdout.trim())
}

export async function probeStreams(path: string) {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,codec_name',
    '-of',
    'json',
    path,
  ])
  return JSON.parse(stdout).streams as { codec_type: string; codec_name: string }[]
}
