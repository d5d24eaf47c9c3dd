import '@adonisjs/core/types/http'

type ParamValue = string | number | bigint | boolean

export type ScannedRoutes = {
  ALL: {
    'new_account.create': { paramsTuple?: []; params?: {} }
    'new_account.store': { paramsTuple?: []; params?: {} }
    'new_account.check_email': { paramsTuple?: []; params?: {} }
    'session.create': { paramsTuple?: []; params?: {} }
    'session.store': { paramsTuple?: []; params?: {} }
    'password_reset.create': { paramsTuple?: []; params?: {} }
    'password_reset.store': { paramsTuple?: []; params?: {} }
    'password_reset.sent': { paramsTuple?: []; params?: {} }
    'password_reset.edit': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'password_reset.update': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'activation.show': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'session.destroy': { paramsTuple?: []; params?: {} }
    'session.destroy_others': { paramsTuple?: []; params?: {} }
    'tasks.index': { paramsTuple?: []; params?: {} }
    'tokens.index': { paramsTuple?: []; params?: {} }
    'usage.index': { paramsTuple?: []; params?: {} }
    'account.show': { paramsTuple?: []; params?: {} }
    'account.update_password': { paramsTuple?: []; params?: {} }
    'account.update_notifications': { paramsTuple?: []; params?: {} }
    'account.destroy': { paramsTuple?: []; params?: {} }
    'orders.store': { paramsTuple?: []; params?: {} }
    'orders.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.receipt': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.check': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'payment_webhooks.store': { paramsTuple: [ParamValue]; params: {'gateway': ParamValue} }
    'internal_users.show': { paramsTuple?: []; params?: {} }
    'internal_users.update': { paramsTuple?: []; params?: {} }
    'internal_balances.update': { paramsTuple?: []; params?: {} }
    'dev_checkout.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'dev_checkout.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.create': { paramsTuple?: []; params?: {} }
    'tasks.store': { paramsTuple?: []; params?: {} }
    'tasks.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'task_inputs.upload': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
    'task_inputs.store': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
    'task_inputs.show': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
    'runs.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'runs.download': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'runs.video': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'runs.poster': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'uploads.create': { paramsTuple?: []; params?: {} }
    'uploads.options': { paramsTuple?: []; params?: {} }
    'uploads.resume': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'generation_inputs.show': { paramsTuple: [ParamValue,ParamValue]; params: {'runId': ParamValue,'kind': ParamValue} }
    'generation_webhooks.store': { paramsTuple?: []; params?: {} }
    'generation_webhooks.hosted': { paramsTuple: [ParamValue]; params: {'provider': ParamValue} }
    'dev_mailbox.index': { paramsTuple?: []; params?: {} }
    'dev_mailbox.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'dev_mailbox.html': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'health.live': { paramsTuple?: []; params?: {} }
    'health.ready': { paramsTuple?: []; params?: {} }
  }
  GET: {
    'new_account.create': { paramsTuple?: []; params?: {} }
    'new_account.check_email': { paramsTuple?: []; params?: {} }
    'session.create': { paramsTuple?: []; params?: {} }
    'password_reset.create': { paramsTuple?: []; params?: {} }
    'password_reset.sent': { paramsTuple?: []; params?: {} }
    'password_reset.edit': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'activation.show': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'tasks.index': { paramsTuple?: []; params?: {} }
    'tokens.index': { paramsTuple?: []; params?: {} }
    'usage.index': { paramsTuple?: []; params?: {} }
    'account.show': { paramsTuple?: []; params?: {} }
    'orders.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.receipt': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'internal_users.show': { paramsTuple?: []; params?: {} }
    'dev_checkout.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.create': { paramsTuple?: []; params?: {} }
    'tasks.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'task_inputs.show': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
    'runs.download': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'runs.video': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'runs.poster': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'generation_inputs.show': { paramsTuple: [ParamValue,ParamValue]; params: {'runId': ParamValue,'kind': ParamValue} }
    'dev_mailbox.index': { paramsTuple?: []; params?: {} }
    'dev_mailbox.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'dev_mailbox.html': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'health.live': { paramsTuple?: []; params?: {} }
    'health.ready': { paramsTuple?: []; params?: {} }
  }
  HEAD: {
    'new_account.create': { paramsTuple?: []; params?: {} }
    'new_account.check_email': { paramsTuple?: []; params?: {} }
    'session.create': { paramsTuple?: []; params?: {} }
    'password_reset.create': { paramsTuple?: []; params?: {} }
    'password_reset.sent': { paramsTuple?: []; params?: {} }
    'password_reset.edit': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'activation.show': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'tasks.index': { paramsTuple?: []; params?: {} }
    'tokens.index': { paramsTuple?: []; params?: {} }
    'usage.index': { paramsTuple?: []; params?: {} }
    'account.show': { paramsTuple?: []; params?: {} }
    'orders.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'orders.receipt': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'internal_users.show': { paramsTuple?: []; params?: {} }
    'dev_checkout.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.create': { paramsTuple?: []; params?: {} }
    'tasks.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'task_inputs.show': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
    'runs.download': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'runs.video': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'runs.poster': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'runId': ParamValue} }
    'uploads.resume': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'generation_inputs.show': { paramsTuple: [ParamValue,ParamValue]; params: {'runId': ParamValue,'kind': ParamValue} }
    'dev_mailbox.index': { paramsTuple?: []; params?: {} }
    'dev_mailbox.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'dev_mailbox.html': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'health.live': { paramsTuple?: []; params?: {} }
    'health.ready': { paramsTuple?: []; params?: {} }
  }
  POST: {
    'new_account.store': { paramsTuple?: []; params?: {} }
    'session.store': { paramsTuple?: []; params?: {} }
    'password_reset.store': { paramsTuple?: []; params?: {} }
    'password_reset.update': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'session.destroy': { paramsTuple?: []; params?: {} }
    'session.destroy_others': { paramsTuple?: []; params?: {} }
    'account.update_password': { paramsTuple?: []; params?: {} }
    'account.update_notifications': { paramsTuple?: []; params?: {} }
    'account.destroy': { paramsTuple?: []; params?: {} }
    'orders.store': { paramsTuple?: []; params?: {} }
    'orders.check': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'payment_webhooks.store': { paramsTuple: [ParamValue]; params: {'gateway': ParamValue} }
    'dev_checkout.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.store': { paramsTuple?: []; params?: {} }
    'tasks.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'tasks.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'task_inputs.store': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
    'runs.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'uploads.create': { paramsTuple?: []; params?: {} }
    'generation_webhooks.store': { paramsTuple?: []; params?: {} }
    'generation_webhooks.hosted': { paramsTuple: [ParamValue]; params: {'provider': ParamValue} }
  }
  PUT: {
    'internal_users.update': { paramsTuple?: []; params?: {} }
    'internal_balances.update': { paramsTuple?: []; params?: {} }
    'task_inputs.upload': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'kind': ParamValue} }
  }
  OPTIONS: {
    'uploads.options': { paramsTuple?: []; params?: {} }
  }
  PATCH: {
    'uploads.resume': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
  DELETE: {
    'uploads.resume': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
}
declare module '@adonisjs/core/types/http' {
  export interface RoutesList extends ScannedRoutes {}
}