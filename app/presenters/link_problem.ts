import type { HttpContext } from '@adonisjs/core/http'

const HEADLINES = {
  invalid: 'This link is not valid',
  expired: 'This link has expired',
  used: 'This link was already used',
}

const MESSAGES = {
  activation: {
    invalid: 'The activation link is incomplete or not valid.',
    expired: 'Activation links are valid for 24 hours, and this one is older.',
    used: 'This activation link was already used. If your account is active, just log in.',
  },
  reset: {
    invalid: 'The password reset link is incomplete, not valid, or was replaced by a newer one.',
    expired: 'Password reset links are valid for 24 hours, and this one is older.',
    used: 'This password reset link was already used.',
  },
}

/** The page for a used, expired or forged link, with a way to get a new one. */
export function linkProblem(
  { view, response }: HttpContext,
  kind: 'activation' | 'reset',
  reason: 'invalid' | 'expired' | 'used'
) {
  response.status(reason === 'invalid' ? 404 : 410)
  return view.render('pages/auth/link_problem', {
    title: HEADLINES[reason],
    headline: HEADLINES[reason],
    message: MESSAGES[kind][reason],
    kind,
  })
}
