import User, { type UserStatus } from '#models/user'
import walletService from '#services/wallet_service'

let counter = 0

/** The password of every user createUser makes, unless told otherwise. */
export const TEST_PASSWORD = 'correct horse battery'

/** Creates a user directly (no mails), activated unless told otherwise. */
export async function createUser(
  overrides: { email?: string; password?: string; status?: UserStatus; balance?: number } = {}
) {
  counter += 1
  const user = await User.create({
    email: overrides.email ?? `user${counter}-${Date.now()}@example.com`,
    password: overrides.password ?? TEST_PASSWORD,
    status: overrides.status ?? 'activated',
    balance: 0,
  })
  if (overrides.balance) {
    await walletService.change({
      userId: user.id,
      action: 'manual',
      diff: overrides.balance,
      reference: `test:seed:${user.id}`,
      description: 'Test balance',
    })
    await user.refresh()
  }
  return user
}
