import { createHash, randomBytes } from 'node:crypto'
import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import { Exception } from '@adonisjs/core/exceptions'
import { limits } from '#start/limiter'
import LoginThrottledException from '#exceptions/login_throttled_exception'
import LoginThrottledMail from '#mails/login_throttled_mail'
import { appLink } from '#mails/account_link_mail'
import { queueMail, type OutboxMail } from '#services/mail_outbox'
import accountService from '#services/account_service'
import User from '#models/user'

/* A browser remembers the accounts logged in with it for this long (at most 5). */
export const DEVICE_COOKIE = 'vgen-device'
const DEVICE_COOKIE_MAX_AGE = '400d'
const MAX_DEVICE_ACCOUNTS = 5

type DeviceEntry = { a: string; d: string }

/* The cookie names the account by a hash of its email, never the email itself. */
function accountTag(email: string) {
  return createHash('sha256').update(User.normalizeEmail(email)).digest('base64url').slice(0, 22)
}

/** The limiter key counting an account's failures from new devices. */
export function accountKey(email: string) {
  return `login:account:${accountTag(email)}`
}

/* Thrown inside the limiter's penalize() so the failure is counted; never leaves this file. */
class WrongPassword extends Exception {}

/**
 * The per-account login throttle. Wrong passwords for one account are
 * counted across all IPs (20 an hour, then new devices are refused for an
 * hour and the owner gets one mail). A browser that has logged in to the
 * account before (the encrypted device cookie) is a "known device": it is
 * counted on its own (10 in 15 minutes), so an attacker elsewhere can never
 * lock the owner out of their usual browser, and a stolen device cookie is
 * no unlimited guessing oracle either. A password reset by mail lifts the
 * account's block. Counts are kept by the rate limiter store (LIMITER_STORE).
 */
export class LoginThrottle {
  private devices(ctx: HttpContext): DeviceEntry[] {
    const value = ctx.request.encryptedCookie(DEVICE_COOKIE)
    return Array.isArray(value)
      ? value.filter(
          (entry): entry is DeviceEntry =>
            typeof entry?.a === 'string' && typeof entry?.d === 'string'
        )
      : []
  }

  /** The limiter and key that count this attempt's failures. */
  private guardFor(ctx: HttpContext, email: string) {
    const tag = accountTag(email)
    const device = this.devices(ctx).find((entry) => entry.a === tag)
    return device
      ? {
          scope: 'device' as const,
          limiter: limits.loginFailuresPerDevice(),
          key: `login:device:${tag}:${device.d}`,
        }
      : {
          scope: 'account' as const,
          limiter: limits.loginFailuresPerAccount(),
          key: accountKey(email),
        }
  }

  /**
   * Runs `check` (the password check) under the limit. `check` returns
   * false for a wrong password. When the limit is already reached, the
   * password is not even checked: LoginThrottledException.
   */
  async attempt<T>(ctx: HttpContext, email: string, check: () => Promise<T | false>) {
    const guard = this.guardFor(ctx, email)
    try {
      const [throttled, result] = await guard.limiter.penalize(guard.key, async () => {
        const outcome = await check()
        if (outcome === false) throw new WrongPassword()
        return outcome
      })
      if (throttled) throw new LoginThrottledException(guard.scope, throttled.response.availableIn)
      return result as T
    } catch (error) {
      if (!(error instanceof WrongPassword)) throw error
      if (guard.scope === 'account' && (await guard.limiter.isBlocked(guard.key))) {
        await this.alertOwner(email)
      }
      return false as const
    }
  }

  /** After a successful login: this browser is a known device for the account from now on. */
  rememberDevice(ctx: HttpContext, email: string) {
    const tag = accountTag(email)
    const others = this.devices(ctx).filter((entry) => entry.a !== tag)
    const entries = [{ a: tag, d: randomBytes(12).toString('base64url') }, ...others]
    ctx.response.encryptedCookie(DEVICE_COOKIE, entries.slice(0, MAX_DEVICE_ACCOUNTS), {
      maxAge: DEVICE_COOKIE_MAX_AGE,
      httpOnly: true,
      sameSite: 'lax',
      secure: app.inProduction,
      path: '/',
    })
  }

  /** A password reset by mail proves the mailbox: new devices may log in again. */
  async lift(email: string) {
    await limits.loginFailuresPerAccount().delete(accountKey(email))
  }

  /** One mail per account and hour; nobody is mailed for an unknown address. */
  private async alertOwner(email: string) {
    const user = await accountService.findByEmail(email)
    if (!user) return
    const hour = Math.floor(Date.now() / 3_600_000)
    await queueMail({
      kind: 'login_throttled',
      to: user.email,
      userId: user.id,
      dedupeKey: `login_throttled:${user.id}:${hour}`,
      payload: { failures: limits.loginFailuresPerAccount().requests },
    })
  }

  async buildAlert(mail: OutboxMail) {
    return new LoginThrottledMail(
      mail.to,
      Number(mail.payload.failures),
      appLink('/forgot-password')
    )
  }
}

export default new LoginThrottle()
