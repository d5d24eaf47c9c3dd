import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, services } from '@adonisjs/drive'
import { s3Bucket, s3Client } from '#config/s3'
import { gcsBucketName, gcsOptions } from '#config/gcs'

/*
 * Uploaded inputs and generated results. Files are private: they are served
 * only through controllers that check ownership, never by a public URL.
 */
const driveConfig = defineConfig({
  default: env.get('DRIVE_DISK') ?? 'fs',
  services: {
    fs: services.fs({
      location: app.makePath(env.get('STORAGE_PATH') || 'storage'),
      serveFiles: false,
      visibility: 'private',
    }),
    s3: services.s3({
      client: s3Client(),
      bucket: s3Bucket,
      visibility: 'private',
    }),
    gcs: services.gcs({
      ...gcsOptions,
      bucket: gcsBucketName,
      visibility: 'private',
    }),
  },
})

export default driveConfig

declare module '@adonisjs/drive/types' {
  export interface DriveDisks extends InferDriveDisks<typeof driveConfig> {}
}
