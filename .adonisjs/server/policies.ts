export const policies = {
  TaskPolicy: () => import('#policies/task_policy'),
}

