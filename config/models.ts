/*
| Model types a customer can pick for a task: the one place to add, remove
| or re-price a model. `inputs` are the files a run needs; `cost` turns the
| clip length (the shortest required input, in whole seconds) into tokens;
| `render` holds the local ffmpeg provider's settings and is passed to the
| http provider as-is. `providers` lists the hosted providers that can run
| the model, in order of preference, each with its own model id and options
| (a run goes to the first one with credentials; see
| docs/generation-providers.md). `local` and `http` run every model.
*/
import type { ProviderRoute } from '#integrations/generation/provider'

export type InputKind = 'video' | 'audio'

export type ModelType = {
  key: string
  label: string
  description: string
  inputs: InputKind[]
  cost: { tokensPerSecond: number; minimum: number }
  render: {
    /* Output height cap (never upscaled) */
    maxHeight: number
    crf: number
    preset: 'ultrafast' | 'veryfast' | 'fast' | 'medium' | 'slow'
    /* Optional ffmpeg video filter applied before scaling (a "look") */
    filter?: string
  }
  providers: ProviderRoute[]
}

export const models: ModelType[] = [
  {
    key: 'lipsync',
    label: 'Lip sync · Standard',
    description:
      'Puts your audio onto your video. 720p, fast. The clip is as long as the shorter file.',
    inputs: ['video', 'audio'],
    cost: { tokensPerSecond: 10, minimum: 100 },
    render: { maxHeight: 720, crf: 23, preset: 'veryfast' },
    providers: [
      { provider: 'sync', model: 'lipsync-2', options: { sync_mode: 'cut_off' } },
      { provider: 'replicate', model: 'sync/lipsync-2', options: { sync_mode: 'cut_off' } },
      { provider: 'fal', model: 'fal-ai/sync-lipsync/v3', options: { sync_mode: 'cut_off' } },
    ],
  },
  {
    key: 'lipsync-pro',
    label: 'Lip sync · Pro',
    description: 'Same as Standard in up to 1080p with higher quality. Costs more per second.',
    inputs: ['video', 'audio'],
    cost: { tokensPerSecond: 25, minimum: 250 },
    render: { maxHeight: 1080, crf: 19, preset: 'fast' },
    providers: [
      { provider: 'sync', model: 'lipsync-2-pro', options: { sync_mode: 'cut_off' } },
      { provider: 'replicate', model: 'sync/lipsync-2-pro', options: { sync_mode: 'cut_off' } },
    ],
  },
  {
    key: 'restyle',
    label: 'Cinematic restyle',
    description: 'Gives your video a warm, high-contrast cinematic look. Only a video is needed.',
    inputs: ['video'],
    cost: { tokensPerSecond: 5, minimum: 50 },
    render: {
      maxHeight: 720,
      crf: 23,
      preset: 'veryfast',
      filter: 'eq=contrast=1.15:saturation=1.3,colorbalance=rs=0.08:bs=-0.06',
    },
    /* No lip-sync service does this: only `local` and `http` run it. */
    providers: [],
  },
]

export function findModel(key: string | null | undefined) {
  return models.find((model) => model.key === key) ?? null
}

/** Tokens for one run of `model` on a clip of `seconds` (rounded up). */
export function runCost(model: ModelType, seconds: number) {
  const billable = Math.max(1, Math.ceil(seconds))
  return Math.max(model.cost.minimum, billable * model.cost.tokensPerSecond)
}

export const inputLabels: Record<InputKind, string> = { video: 'Video', audio: 'Audio' }
