import { defineConfig, drivers } from '@adonisjs/core/hash'

/*
 * scrypt with N=2^15, r=8, p=1: 32 MiB of memory and ~60 ms per hash on this
 * class of machine. That is OWASP's recommended scrypt floor (N>=2^15) while
 * keeping a login well under a tenth of a second. maxMemory must exceed
 * 128 * N * r bytes, so it is set to 64 MiB.
 */
const hashConfig = defineConfig({
  default: 'scrypt',
  list: {
    scrypt: drivers.scrypt({
      cost: 32768,
      blockSize: 8,
      parallelization: 1,
      maxMemory: 64 * 1024 * 1024,
    }),
  },
})

export default hashConfig

declare module '@adonisjs/core/types' {
  export interface HashersList extends InferHashers<typeof hashConfig> {}
}
