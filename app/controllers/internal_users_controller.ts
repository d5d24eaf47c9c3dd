import type { HttpContext } from '@adonisjs/core/http'
import adminService from '#services/admin_service'
import { adminUserView, jsonBody } from '#presenters/admin_api'
import { statusChangeValidator, userLookupValidator } from '#validators/admin'

/** The internal API's users (SPEC §4). Errors are rendered by the exception handler. */
export default class InternalUsersController {
  /** `GET /api/internal/user?email=…` or `?userID=…`: find a user (email in any case). */
  async show({ request }: HttpContext) {
    const query = await userLookupValidator.validate(request.qs())
    const user = query.email
      ? await adminService.findUserByEmail(query.email)
      : await adminService.findUser(query.userID!)
    return adminUserView(user)
  }

  /** `PUT /api/internal/user {"userID", "status"}`. */
  async update({ request }: HttpContext) {
    const { userID, status } = await statusChangeValidator.validate(jsonBody(request))
    const user = await adminService.findUser(userID)
    const result = await adminService.setStatus(user, status)
    return {
      userID: result.userId,
      email: result.email,
      oldStatus: result.oldStatus,
      newStatus: result.newStatus,
    }
  }
}
