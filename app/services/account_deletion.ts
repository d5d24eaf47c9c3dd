import { randomBytes } from 'node:crypto'
import db from '@adonisjs/lucid/services/db'
import hash from '@adonisjs/core/services/hash'
import { DateTime } from 'luxon'
import User from '#models/user'
import Run from '#models/run'
import Task from '#models/task'
import mediaStorage from '#integrations/storage/media_storage'
import notificationMailer from '#services/notification_mailer'
import { resumableUploads } from '#services/uploads/resumable_uploads'
import { sqlTime } from '#helpers/sql_time'
import { DeleteWhileRunActiveException } from '#exceptions/account_exceptions'

/** What a deleted account's row holds instead of an address: unique, and never deliverable. */
export function deletedEmail(userId: string) {
  return `deleted-${userId}@deleted.invalid`
}

/**
 * Deletes a customer's account. In one transaction: refused while a run is
 * active; the confirmation mail is queued to the address (before it is
 * erased); tasks, inputs and runs go; the users row keeps only its id, the
 * balance and timestamps (email replaced, password made unusable, status
 * blocked, every session ended by the version bump); pending mails, links
 * and the email copies in the analytics outbox go. The ledger, payment
 * orders and analytics rows stay, tied to the user id only. Files are
 * removed after the commit (a crash there leaves orphan files, never a
 * half-deleted account).
 */
export async function deleteAccount(user: User) {
  const unusablePassword = await hash.use('scrypt').make(randomBytes(32).toString('base64url'))
  const taskIds = await db.transaction(async (trx) => {
    const active = await Run.query({ client: trx })
      .withScopes((scopes) => scopes.ownedBy(user))
      .withScopes((scopes) => scopes.active())
      .first()
    if (active) throw new DeleteWhileRunActiveException()

    await trx.from('mail_outbox').where('user_id', user.id).where('status', 'pending').delete()
    await notificationMailer.queueAccountDeleted(trx, user)

    const tasks = await Task.query({ client: trx }).withScopes((scopes) => scopes.ownedBy(user))
    await trx.from('tasks').where('user_id', user.id).delete()
    await trx.from('account_tokens').where('user_id', user.id).delete()
    /* Analytics rows keep the user id; the address they copied goes. */
    await trx.rawQuery(
      `UPDATE outbox_events SET payload = json_set(payload, '$.email', NULL)
       WHERE json_extract(payload, '$.userid') = ? AND json_extract(payload, '$.email') IS NOT NULL`,
      [user.id]
    )
    const now = DateTime.now()
    await trx
      .from('users')
      .where('id', user.id)
      .update({
        email: deletedEmail(user.id),
        /* A real hash of a secret nobody keeps: no password verifies against it. */
        password: unusablePassword,
        status: 'blocked',
        notify_runs: false,
        notify_low_balance: false,
        session_version: db.raw('session_version + 1'),
        deleted_at: sqlTime(now),
        updated_at: sqlTime(now),
      })
    return tasks.map((task) => task.id)
  })
  for (const taskId of taskIds) await mediaStorage.deletePrefix(`tasks/${taskId}/`)
  await (await resumableUploads()).removeAllOf(user.id)
  return User.findOrFail(user.id)
}
