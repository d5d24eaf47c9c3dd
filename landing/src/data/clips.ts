// The example clips on the product page. Replacing a sample with a real clip is
// editing this list: point `video` and `poster` at files in public/ (or at
// absolute URLs on a host the CSP in netlify.toml allows under media-src/img-src).
//
// The shipped files are synthetic samples rendered by scripts/make-clips.sh.

export interface Clip {
  /** Shown under the clip and used for its accessible name. */
  title: string
  /** Filter group. Clips sharing a category are grouped under one filter button. */
  category: string
  /** MP4 (H.264/AAC) is the safest choice for every browser. */
  video: string
  /** Still image shown before playback; 16:9, a few KB (WebP). */
  poster: string
  /** Optional WebVTT captions describing speech and sound. */
  captions?: string
  /** Optional one-line note under the title. */
  note?: string
}

export const clips: Clip[] = [
  {
    title: 'Neon Nights visualizer',
    category: 'Music',
    video: '/clips/neon-equalizer.mp4',
    poster: '/clips/neon-equalizer.webp',
    captions: '/clips/neon-equalizer.vtt',
    note: 'Audio-reactive bars for a synth single',
  },
  {
    title: 'After Hours waveform',
    category: 'Music',
    video: '/clips/late-night-waveform.mp4',
    poster: '/clips/late-night-waveform.webp',
    captions: '/clips/late-night-waveform.vtt',
    note: 'A looping waveform for a late-night track',
  },
  {
    title: 'Summer Drop teaser',
    category: 'Marketing',
    video: '/clips/summer-drop-teaser.mp4',
    poster: '/clips/summer-drop-teaser.webp',
    captions: '/clips/summer-drop-teaser.vtt',
    note: 'A punchy launch teaser for social ads',
  },
  {
    title: 'Meet Nova product reveal',
    category: 'Marketing',
    video: '/clips/product-reveal.mp4',
    poster: '/clips/product-reveal.webp',
    captions: '/clips/product-reveal.vtt',
    note: 'A minimal reveal with a soft chime',
  },
  {
    title: 'Golden hour',
    category: 'Travel',
    video: '/clips/sunset-timelapse.mp4',
    poster: '/clips/sunset-timelapse.webp',
    captions: '/clips/sunset-timelapse.vtt',
    note: 'Sunset colours over an ambient pad',
  },
  {
    title: 'Tide',
    category: 'Travel',
    video: '/clips/ocean-loop.mp4',
    poster: '/clips/ocean-loop.webp',
    captions: '/clips/ocean-loop.vtt',
    note: 'A calm ocean loop for a travel reel',
  },
  {
    title: 'Infinite',
    category: 'Art',
    video: '/clips/fractal-dive.mp4',
    poster: '/clips/fractal-dive.webp',
    captions: '/clips/fractal-dive.vtt',
    note: 'A slow fractal zoom with shimmering tones',
  },
  {
    title: 'Bloom',
    category: 'Art',
    video: '/clips/cellular-bloom.mp4',
    poster: '/clips/cellular-bloom.webp',
    captions: '/clips/cellular-bloom.vtt',
    note: 'Generative patterns set to an arpeggio',
  },
  {
    title: 'The Creative Stack audiogram',
    category: 'Podcast',
    video: '/clips/podcast-audiogram.mp4',
    poster: '/clips/podcast-audiogram.webp',
    captions: '/clips/podcast-audiogram.vtt',
    note: 'A shareable audiogram for a podcast episode',
  },
]

/** Categories in order of first appearance. */
export const categories: string[] = [...new Set(clips.map((c) => c.category))]

/** A CSS- and id-safe key for a category name. */
export function categorySlug(category: string): string {
  return category.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'other'
}
