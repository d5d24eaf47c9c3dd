import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#models/user'
import Task from '#models/task'
import type DomainException from '#exceptions/domain_exception'
import { refuse, NotFoundException } from '#exceptions/refusal'
import { LaunchWhileActiveException, RunActiveException } from '#exceptions/task_exceptions'

/**
 * What a user may do with a task. Tasks are looked up through
 * `Task.ownedBy`, so another user's task is already a 404; the owner check
 * here keeps that true for any caller. The rest depends on state: while a
 * run is queued or running the task cannot be deleted, launched again or
 * have an input replaced (the run uses those files).
 */
export default class TaskPolicy extends BasePolicy {
  rename(user: User, task: Task) {
    return owns(user, task) || refuse(new NotFoundException())
  }

  delete(user: User, task: Task) {
    return ownerWhileIdle(user, task, () => new RunActiveException('delete').backTo(taskPage(task)))
  }

  launch(user: User, task: Task) {
    return ownerWhileIdle(user, task, () => new LaunchWhileActiveException(task.id))
  }

  replaceInput(user: User, task: Task) {
    return ownerWhileIdle(user, task, () =>
      new RunActiveException('replaceInput').backTo(taskPage(task))
    )
  }
}

function owns(user: User, task: Task) {
  return user.id === task.userId
}

function taskPage(task: Task) {
  return `/tasks/${task.id}`
}

/** The owner may, unless a run of the task is active; then `refusal` says why. */
async function ownerWhileIdle(user: User, task: Task, refusal: () => DomainException) {
  if (!owns(user, task)) return refuse(new NotFoundException())
  const idle = await Task.query()
    .where('id', task.id)
    .withScopes((scopes) => scopes.idle())
    .first()
  return idle !== null || refuse(refusal())
}
