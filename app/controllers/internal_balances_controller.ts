import type { HttpContext } from '@adonisjs/core/http'
import adminService from '#services/admin_service'
import { jsonBody } from '#presenters/admin_api'
import { balanceChangeValidator, idempotencyKeyValidator } from '#validators/admin'
import { InsufficientBalanceException } from '#exceptions/admin_exceptions'

/** `PUT /api/internal/balance {"userID", "diff"}` with an optional `Idempotency-Key` (SPEC §4). */
export default class InternalBalancesController {
  async update({ request, response }: HttpContext) {
    const { diff, userID } = await balanceChangeValidator.validate(jsonBody(request))
    const { key } = await idempotencyKeyValidator.validate({
      key: request.header('idempotency-key') || undefined,
    })
    const user = await adminService.findUser(userID)
    const result = await adminService.adjustBalance(user, diff, key ?? null, 'api')
    if (result.status === 'rejected')
      throw new InsufficientBalanceException(result.oldBalance, diff)
    if (result.status === 'duplicate') response.header('Idempotent-Replayed', 'true')
    return {
      userID: result.userId,
      oldBalance: result.oldBalance,
      diff: result.diff,
      newBalance: result.newBalance,
    }
  }
}
