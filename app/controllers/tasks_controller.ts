import type { HttpContext } from '@adonisjs/core/http'

export default class TasksController {
  async index({ view }: HttpContext) {
    return view.render('pages/tasks/index', { title: 'Tasks', active: 'tasks' })
  }
}
