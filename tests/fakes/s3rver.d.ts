/* The part of s3rver's API the tests use (the package ships no types). */
declare module 's3rver' {
  type Options = {
    address?: string
    port?: number
    silent?: boolean
    directory: string
    configureBuckets?: { name: string }[]
  }
  export default class S3rver {
    constructor(options: Options)
    /** Koa's middleware stack (s3rver is a Koa app); the last entry is its router. */
    middleware: unknown[]
    run(): Promise<{ address: string; port: number }>
    close(): Promise<void>
  }
}
