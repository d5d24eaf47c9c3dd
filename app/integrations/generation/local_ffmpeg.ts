import { spawn, type ChildProcess } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import logger from '@adonisjs/core/services/logger'
import generationConfig from '#config/generation'
import { findModel, type ModelType } from '#config/models'
import mediaStorage from '#integrations/storage/media_storage'
import {
  ProviderError,
  type GenerationProvider,
  type JobStatus,
  type SubmitRequest,
} from '#integrations/generation/provider'

type JobFile = {
  reference: string
  model: string
  clipSeconds: number
  inputs: { kind: string; storageKey: string }[]
}
type DoneFile = { state: 'succeeded' | 'failed'; error?: string }

/* ffmpeg processes started by this process, by job id. */
const running = new Map<string, ChildProcess>()
/* Jobs waiting for a render slot (at most LOCAL_MAX_RENDERS run at once), oldest first. */
const waiting = new Map<string, JobFile>()
/* Jobs whose render slot is taken but whose ffmpeg is not spawned yet (inputs being copied). */
const starting = new Set<string>()
/* Jobs whose ffmpeg has exited and whose outcome is being written (not to be restarted). */
const finishing = new Set<string>()
/* The most renders seen at once (the bench checks the cap with it). */
let peakRenders = 0

const slotsInUse = () => running.size + starting.size

/**
 * The embedded provider: really renders the clip with ffmpeg on this
 * machine (H.264/AAC MP4). A job is a folder: job.json (what to do), pid,
 * output.mp4 and done.json (the outcome). A job whose process is gone
 * without an outcome (the worker restarted) is rendered again: that is this
 * provider's own retry, not a new submission, and costs nobody anything.
 */
export class LocalFfmpegProvider implements GenerationProvider {
  readonly name = 'local' as const

  private dir(jobId: string) {
    if (!/^local-[\w-]+$/.test(jobId)) throw new ProviderError('Unknown job id', false)
    return join(mediaStorage.scratchDir('generation'), jobId)
  }

  async submit(request: SubmitRequest) {
    const jobId = `local-${request.reference}`
    const dir = this.dir(jobId)
    await mkdir(dir, { recursive: true })
    const job: JobFile = {
      reference: request.reference,
      model: request.model.key,
      clipSeconds: request.clipSeconds,
      inputs: request.inputs.map((input) => ({ kind: input.kind, storageKey: input.storageKey })),
    }
    await writeFile(join(dir, 'job.json'), JSON.stringify(job))
    if (!running.has(jobId) && !starting.has(jobId)) await this.enqueue(jobId, job)
    return { jobId }
  }

  /** Renders running now and the most seen at once (for the bench and tests). */
  static renders() {
    return { running: running.size, waiting: waiting.size, peak: peakRenders }
  }

  /** Starts the job now if a render slot is free, else queues it. */
  private async enqueue(jobId: string, job: JobFile) {
    if (slotsInUse() < generationConfig.localMaxRenders) {
      waiting.delete(jobId)
      await this.startInSlot(jobId, job)
    } else {
      waiting.set(jobId, job)
    }
  }

  /* The slot is taken synchronously, so concurrent steps never start more than the cap. */
  private async startInSlot(jobId: string, job: JobFile) {
    starting.add(jobId)
    try {
      await this.start(jobId, job)
    } finally {
      starting.delete(jobId)
    }
  }

  /** A slot came free: start the oldest waiting job. */
  private async startNext() {
    while (waiting.size && slotsInUse() < generationConfig.localMaxRenders) {
      const [jobId, job] = waiting.entries().next().value!
      waiting.delete(jobId)
      await this.startInSlot(jobId, job).catch((error) => {
        logger.warn({ err: error, jobId }, 'local generation could not start')
        return this.finish(this.dir(jobId), {
          state: 'failed',
          error: 'The clip could not be rendered from these files.',
        })
      })
    }
  }

  async findByReference(reference: string) {
    const jobId = `local-${reference}`
    const job = await this.readJson<JobFile>(jobId, 'job.json')
    return job ? jobId : null
  }

  async getStatus(jobId: string): Promise<JobStatus> {
    const done = await this.readJson<DoneFile>(jobId, 'done.json')
    if (done) return { state: done.state, providerStatus: done.state, error: done.error }
    if (running.has(jobId) || starting.has(jobId) || finishing.has(jobId))
      return { state: 'running', providerStatus: 'rendering' }
    if (waiting.has(jobId)) return { state: 'queued', providerStatus: 'waiting' }
    const job = await this.readJson<JobFile>(jobId, 'job.json')
    if (!job) return { state: 'not_found', providerStatus: 'not_found' }
    /* Interrupted by a restart: render again. */
    await this.enqueue(jobId, job)
    return running.has(jobId) || starting.has(jobId)
      ? { state: 'running', providerStatus: 'restarted' }
      : { state: 'queued', providerStatus: 'waiting' }
  }

  async openOutput(jobId: string): Promise<Readable> {
    return createReadStream(join(this.dir(jobId), 'output.mp4'))
  }

  async cancel(jobId: string) {
    waiting.delete(jobId)
    running.get(jobId)?.kill('SIGKILL')
    running.delete(jobId)
    await this.release(jobId)
    await this.startNext()
  }

  async release(jobId: string) {
    /* A released job is done with: it must not start later from the queue. */
    waiting.delete(jobId)
    await rm(this.dir(jobId), { recursive: true, force: true })
  }

  private async readJson<T>(jobId: string, file: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(join(this.dir(jobId), file), 'utf8')) as T
    } catch {
      return null
    }
  }

  private async start(jobId: string, job: JobFile) {
    const dir = this.dir(jobId)
    await this.killStale(dir)
    const model = findModel(job.model)
    if (!model)
      return this.finish(dir, { state: 'failed', error: 'This model is no longer available.' })

    const paths: Record<string, string> = {}
    for (const input of job.inputs) paths[input.kind] = await this.materialize(dir, input)

    const output = join(dir, 'output.part.mp4')
    const child = spawn(
      generationConfig.ffmpegPath,
      ffmpegArgs(model, paths, output, job.clipSeconds),
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      }
    )
    running.set(jobId, child)
    peakRenders = Math.max(peakRenders, running.size)
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    const settle = async (code: number | null, error?: Error) => {
      if (running.get(jobId) !== child) return
      running.delete(jobId)
      finishing.add(jobId)
      void this.startNext()
      try {
        await outcome(code, error)
      } finally {
        finishing.delete(jobId)
      }
    }
    const outcome = async (code: number | null, error?: Error) => {
      if (code === 0) {
        await rename(output, join(dir, 'output.mp4'))
        await this.finish(dir, { state: 'succeeded' })
      } else {
        logger.warn({ jobId, code, stderr, err: error }, 'local generation failed')
        await this.finish(dir, {
          state: 'failed',
          error: 'The clip could not be rendered from these files.',
        })
      }
    }
    child.once('error', (error) => void settle(null, error).catch(() => {}))
    child.once('exit', (code) => void settle(code).catch(() => {}))
    /*
     * Only after the listeners: an await before them could miss the exit (or
     * throw, e.g. the job's folder was released meanwhile), and the render
     * slot would stay taken for good, so every later job waited forever.
     */
    await writeFile(join(dir, 'pid'), String(child.pid ?? '')).catch(() => {})
  }

  private async finish(dir: string, done: DoneFile) {
    await writeFile(join(dir, 'done.json'), JSON.stringify(done)).catch(() => {})
  }

  /* An orphaned ffmpeg of a previous worker process on this host would race the new one. */
  private async killStale(dir: string) {
    try {
      const pid = Number(await readFile(join(dir, 'pid'), 'utf8'))
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
      if (pid && cmdline.includes(dir)) process.kill(pid, 'SIGKILL')
    } catch {
      /* No pid file or no such process. */
    }
  }

  /* Inputs on local disk are read in place; from S3/GCS they are copied into the job folder. */
  private async materialize(dir: string, input: { kind: string; storageKey: string }) {
    const local = mediaStorage.localPath(input.storageKey)
    if (local) return local
    const target = join(dir, `input-${input.kind}`)
    await pipeline(await mediaStorage.open(input.storageKey), createWriteStream(target))
    return target
  }
}

/** The ffmpeg command for a model: H.264/AAC MP4, never upscaled, even dimensions. */
export function ffmpegArgs(
  model: ModelType,
  paths: Record<string, string>,
  output: string,
  clipSeconds?: number
) {
  const { render } = model
  const scale = `scale=-2:'min(${render.maxHeight},trunc(ih/2)*2)'`
  const filters = [render.filter, scale, 'format=yuv420p'].filter(Boolean).join(',')
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', paths.video]
  if (paths.audio) args.push('-i', paths.audio, '-map', '0:v:0', '-map', '1:a:0', '-shortest')
  else args.push('-map', '0:v:0', '-map', '0:a:0?')
  /* -shortest alone lets a filtered video run past the audio; cut at the clip length too. */
  if (clipSeconds && clipSeconds > 0) args.push('-t', clipSeconds.toFixed(3))
  args.push(
    '-vf',
    filters,
    '-c:v',
    'libx264',
    '-preset',
    render.preset,
    '-crf',
    String(render.crf),
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    output
  )
  return args
}
