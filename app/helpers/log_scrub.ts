/*
 * Applied to every serialized log line. Keeps the domain of an email
 * (useful to spot a failing mail provider) and hides the rest; hides the
 * secret part of account links and bearer tokens.
 */
const EMAIL = /[\w.!#$%&'*+/=?^`{|}~-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/gi
const ACCOUNT_LINK = /\/(activate|reset-password)\/(?!:)[^\s"/?#\\]+/g
const BEARER = /(bearer\s+)[\w.~+/-]+=*/gi

export function scrubLogLine(line: string) {
  return line
    .replace(EMAIL, '***@$1')
    .replace(ACCOUNT_LINK, '/$1/[redacted]')
    .replace(BEARER, '$1[redacted]')
}
