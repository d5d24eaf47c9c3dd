import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import { multipartExtension } from '#tests/fakes/s3_multipart'
import {
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'

/*
 * A local S3-compatible server (s3rver, from npm) on 127.0.0.1 with one
 * bucket, its files in a temporary folder. Like several real S3-compatible
 * stores it does not decode `aws-chunked` bodies: what the client sends is
 * what it keeps, so a client with streaming checksums stores corrupt files.
 * `client()` reads the bucket directly (never through the app) with
 * checksums only when required, so the test sees the stored bytes as they are.
 * s3rver lacks ListParts and AbortMultipartUpload (the tus store needs both)
 * and does not check parts on completion: tests/fakes/s3_multipart.ts adds
 * them as S3 documents them, inside the same server.
 */
export class FakeS3Server {
  readonly bucket = 'vgen-test'
  readonly accessKeyId = 'S3RVER'
  readonly secretAccessKey = 'S3RVER'
  url = ''
  private server: S3rver | null = null
  private directory = ''

  async start() {
    this.directory = await mkdtemp(join(tmpdir(), 'vgen-s3-'))
    this.server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: this.bucket }],
    })
    /* Koa composes its middleware when the server starts: ours runs just before s3rver's routes. */
    const stack = this.server.middleware
    stack.splice(stack.length - 1, 0, multipartExtension())
    const { port } = await this.server.run()
    this.url = `http://127.0.0.1:${port}`
    return this
  }

  async stop() {
    await this.server?.close()
    await rm(this.directory, { recursive: true, force: true })
  }

  /** The app's environment for DRIVE_DISK=s3 against this server. */
  appEnv(extra: Record<string, string> = {}) {
    return {
      DRIVE_DISK: 's3',
      S3_ENDPOINT: this.url,
      S3_BUCKET: this.bucket,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: this.accessKeyId,
      S3_SECRET_ACCESS_KEY: this.secretAccessKey,
      ...extra,
    }
  }

  client(overrides: S3ClientConfig = {}) {
    return new S3Client({
      endpoint: this.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...overrides,
    })
  }

  async keys(prefix = '') {
    const listed = await this.client().send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix })
    )
    return (listed.Contents ?? []).map((object) => object.Key!).sort()
  }

  async bytes(key: string) {
    const object = await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
    return Buffer.from(await object.Body!.transformToByteArray())
  }
}
