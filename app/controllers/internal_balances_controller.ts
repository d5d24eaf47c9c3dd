import type { HttpContext } from '@adonisjs/core/http'
import adminService, { parseDiff, parseIdempotencyKey } from '#services/admin_service'
import { adminErrorResponse, jsonBody } from '#presenters/admin_api'

/** `PUT /api/internal/balance {"userID", "diff"}` with an optional `Idempotency-Key` (SPEC §4). */
export default class InternalBalancesController {
  async update({ request, response }: HttpContext) {
    try {
      const body = jsonBody(request)
      const diff = parseDiff(body.diff)
      const key = parseIdempotencyKey(request.header('idempotency-key'))
      const user = await adminService.findUser(body.userID)
      const result = await adminService.adjustBalance(user, diff, key, 'api')
      if (result.status === 'rejected') {
        return response.status(409).json({
          error: {
            code: 'insufficient_balance',
            message: `The balance is ${result.oldBalance}; a diff of ${diff} would make it negative. Nothing changed.`,
          },
        })
      }
      if (result.status === 'duplicate') response.header('Idempotent-Replayed', 'true')
      return response.json({
        userID: result.userId,
        oldBalance: result.oldBalance,
        diff: result.diff,
        newBalance: result.newBalance,
      })
    } catch (error) {
      return adminErrorResponse(error, response)
    }
  }
}
