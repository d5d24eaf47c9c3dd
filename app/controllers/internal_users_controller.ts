import type { HttpContext } from '@adonisjs/core/http'
import adminService, { parseStatus } from '#services/admin_service'
import { adminErrorResponse, jsonBody } from '#presenters/admin_api'

/** `PUT /api/internal/user {"userID", "status"}` (SPEC §4). */
export default class InternalUsersController {
  async update({ request, response }: HttpContext) {
    try {
      const body = jsonBody(request)
      const status = parseStatus(body.status)
      const user = await adminService.findUser(body.userID)
      const result = await adminService.setStatus(user, status)
      return response.json({
        userID: result.userId,
        email: result.email,
        oldStatus: result.oldStatus,
        newStatus: result.newStatus,
      })
    } catch (error) {
      return adminErrorResponse(error, response)
    }
  }
}
