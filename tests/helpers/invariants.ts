import type { Assert } from '@japa/assert'
import walletService from '#services/wallet_service'

/** Ledger invariant: every user's balance = sum of applied diffs, and >= 0. */
export async function assertLedgerInvariant(assert: Assert) {
  const violations = await walletService.findInvariantViolations()
  assert.deepEqual(violations, [], 'ledger invariant violated')
}
