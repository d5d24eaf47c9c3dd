import vine, { SimpleMessagesProvider } from '@vinejs/vine'
import { USER_STATUSES } from '#models/user'
import { MAX_ABS_DIFF } from '#services/wallet_service'

/*
 * What operators send: the internal API bodies and query, and the same
 * values typed into the Ace commands. The API reads JSON bodies from the raw
 * text (the bodyparser trims strings), so " 100" arrives as it was sent.
 */

const DIFF_FORMAT = 'diff must be an integer like 100 or -100 (no spaces or decimals)'

/**
 * A diff: an integer (JSON number) or a string of digits with an optional
 * sign, non-zero, at most 1e9 in absolute value. No spaces, no decimals,
 * no exponents. The output is always a number.
 */
const signedDiff = vine.createRule((value, _options, field) => {
  let diff: number
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return field.report('diff must be an integer', 'integer', field)
    diff = value
  } else if (typeof value === 'string') {
    if (!/^[+-]?\d{1,10}$/.test(value)) return field.report(DIFF_FORMAT, 'format', field)
    diff = Number(value)
  } else {
    return field.report('diff must be an integer or a string of digits', 'type', field)
  }
  if (diff === 0) return field.report('diff must not be zero', 'notZero', field)
  if (Math.abs(diff) > MAX_ABS_DIFF) {
    return field.report(`diff must be at most ${MAX_ABS_DIFF} in absolute value`, 'range', field)
  }
  field.mutate(diff, field)
})

/* A user id as the API takes it; unknown ids are a 404, not a 400. */
const userId = () => vine.string().regex(/\S/).maxLength(254)

const messages = {
  'diff.required': 'diff is required',
  'userID.required': 'userID is required',
  'userID.string': 'userID is required',
  'userID.regex': 'userID is required',
  'userID.maxLength': 'userID is too long',
  'status.required': `status must be one of ${USER_STATUSES.join(', ')}`,
  'status.enum': `status must be one of ${USER_STATUSES.join(', ')}`,
  'key.regex': 'Idempotency-Key must be 1–128 visible ASCII characters',
  'key.string': 'Idempotency-Key must be 1–128 visible ASCII characters',
  'email.string': 'email must be a single email address',
  'email.minLength': 'Give the user as ?email= or ?userID=',
  'email.maxLength': 'email is too long',
  'email.required': 'Give the user as ?email= or ?userID=',
  'userID.notWith': 'Give either ?email= or ?userID=, not both',
}

/** `PUT /api/internal/balance` and `balance:adjust` (diff first: its message is the one shown). */
export const balanceChangeValidator = vine.create({
  diff: vine.any().use(signedDiff()),
  userID: userId(),
})
balanceChangeValidator.messagesProvider = new SimpleMessagesProvider(messages)

/** `PUT /api/internal/user` and `user:status`. */
export const statusChangeValidator = vine.create({
  status: vine.enum(USER_STATUSES),
  userID: userId(),
})
statusChangeValidator.messagesProvider = new SimpleMessagesProvider(messages)

/** The `Idempotency-Key` header (or `--key`): 1–128 visible ASCII characters; empty means none. */
export const idempotencyKeyValidator = vine.create({
  key: vine
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/)
    .optional(),
})
idempotencyKeyValidator.messagesProvider = new SimpleMessagesProvider(messages)

/* The lookup takes one of the two. */
const notWith = vine.createRule((_value, other: string, field) => {
  const parent = field.parent as Record<string, unknown>
  if (parent[other] !== undefined) field.report('Give only one', 'notWith', field)
})

/** `GET /api/internal/user?email=…` or `?userID=…` (email matched case-insensitively). */
export const userLookupValidator = vine.create({
  email: vine
    .string()
    .trim()
    .minLength(1)
    .maxLength(254)
    .toLowerCase()
    .optional()
    .requiredIfMissing('userID'),
  userID: userId().optional().use(notWith('email')),
})
userLookupValidator.messagesProvider = new SimpleMessagesProvider(messages)
