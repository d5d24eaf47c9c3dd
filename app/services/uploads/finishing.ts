import type { Upload } from '@tus/server'

/**
 * What every tus store here reports for an upload with every byte in.
 *
 * Such an upload still in the store was never completed: the process died
 * inside its final PATCH (between the last byte and the input being
 * saved). Reporting Upload-Offset = Upload-Length would tell the client
 * "done" for a file that never became the input, so its last byte is
 * reported missing instead: the client sends it again, and that PATCH
 * completes the upload (or answers why the file is refused).
 *
 * A completion under way in this process is not affected: each store
 * answers it from its `finished` map (@tus/server reads an upload once
 * more after its finish hook, for the Upload-Expires header of a
 * creation-with-upload; by then the file has become the task's input).
 */
export function lastByteMissing(upload: Upload) {
  if (upload.size !== undefined && upload.size > 0 && upload.offset >= upload.size)
    upload.offset = upload.size - 1
  return upload
}
