/*
| Routes. Sections: auth (guest pages), app pages (signed in), internal API,
| webhooks, development-only helpers.
*/
import { middleware } from '#start/kernel'
import { controllers } from '#generated/controllers'
import router from '@adonisjs/core/services/router'

router.get('/', ({ response, auth }) =>
  response.redirect(auth.isAuthenticated ? '/tasks' : '/login')
)

/* ---- Accounts (signed-out pages) ---- */
router
  .group(() => {
    router.get('signup', [controllers.NewAccount, 'create'])
    router.post('signup', [controllers.NewAccount, 'store'])
    router.get('signup/check-email', [controllers.NewAccount, 'checkEmail'])

    router.get('login', [controllers.Session, 'create'])
    router.post('login', [controllers.Session, 'store'])

    router.get('forgot-password', [controllers.PasswordReset, 'create'])
    router.post('forgot-password', [controllers.PasswordReset, 'store'])
    router.get('forgot-password/sent', [controllers.PasswordReset, 'sent'])
    router.get('reset-password/:token', [controllers.PasswordReset, 'edit'])
    router.post('reset-password/:token', [controllers.PasswordReset, 'update'])
  })
  .use(middleware.guest())

/* Activation links work in any browser, signed in or not. */
router.get('activate/:token', [controllers.Activation, 'show'])

/* ---- App pages (signed in) ---- */
router
  .group(() => {
    router.post('logout', [controllers.Session, 'destroy'])
    router.post('logout/other-devices', [controllers.Session, 'destroyOthers'])
    router.get('tasks', [controllers.Tasks, 'index'])
    router.get('tokens', [controllers.Tokens, 'index'])
    router.get('usage', [controllers.Usage, 'index'])
    router.get('account', [controllers.Account, 'show'])
    router.post('account/password', [controllers.Account, 'updatePassword'])
    router.post('account/notifications', [controllers.Account, 'updateNotifications'])
    router.post('account/delete', [controllers.Account, 'destroy'])
  })
  .use(middleware.auth())

/* ---- Tokens: top-up orders (signed in) ---- */
router
  .group(() => {
    router.post('tokens/orders', [controllers.Orders, 'store'])
    router.get('tokens/orders/:id', [controllers.Orders, 'show'])
    router.get('tokens/orders/:id/status', [controllers.Orders, 'status'])
    router.get('tokens/orders/:id/receipt', [controllers.Orders, 'receipt'])
    router.post('tokens/orders/:id/check', [controllers.Orders, 'check'])
  })
  .use(middleware.auth())

/* ---- Payment gateway postbacks: no session, a hint verified with the gateway ---- */
router.post('webhooks/payments/:gateway', [controllers.PaymentWebhooks, 'store'])

/* ---- Internal admin API (ADMIN_TOKEN; JSON only) ---- */
router
  .group(() => {
    router.get('user', [controllers.InternalUsers, 'show'])
    router.put('user', [controllers.InternalUsers, 'update'])
    router.put('balance', [controllers.InternalBalances, 'update'])
  })
  .prefix('api/internal')
  .use(middleware.adminToken())

/* ---- Dev payment checkout (development and test only) ---- */
router
  .group(() => {
    router.get('checkout/:id', [controllers.DevCheckout, 'show'])
    router.post('checkout/:id', [controllers.DevCheckout, 'update'])
  })
  .prefix('dev')
  .use(middleware.devOnly())

/* ---- Tasks and generation runs (signed in) ---- */
router
  .group(() => {
    router.get('tasks/new', [controllers.Tasks, 'create'])
    router.post('tasks', [controllers.Tasks, 'store'])
    router.get('tasks/:id', [controllers.Tasks, 'show'])
    router.get('tasks/:id/status', [controllers.Tasks, 'status'])
    router.post('tasks/:id/rename', [controllers.Tasks, 'update'])
    router.post('tasks/:id/delete', [controllers.Tasks, 'destroy'])
    /* The page's uploader: the raw file as the body (bodyparser leaves it alone). */
    router.put('tasks/:id/inputs/:kind', [controllers.TaskInputs, 'upload'])
    /* The form without JavaScript (multipart): listed in bodyparser's processManually. */
    router.post('tasks/:id/inputs/:kind', [controllers.TaskInputs, 'store'])
    router.get('tasks/:id/inputs/:kind', [controllers.TaskInputs, 'show'])
    router.post('tasks/:id/runs', [controllers.Runs, 'store'])
    router.get('tasks/:id/runs/:runId/download', [controllers.Runs, 'download'])
    router.get('tasks/:id/runs/:runId/video', [controllers.Runs, 'video'])
    router.get('tasks/:id/runs/:runId/poster', [controllers.Runs, 'poster'])
  })
  .use(middleware.auth())

/* ---- Resumable uploads (tus 1.0.0; session + X-CSRF-Token; see UploadsController) ---- */
router.post('uploads', [controllers.Uploads, 'handle']).as('uploads.create')
router.route('uploads', ['OPTIONS'], [controllers.Uploads, 'handle']).as('uploads.options')
router
  .route('uploads/:id', ['HEAD', 'PATCH', 'DELETE'], [controllers.Uploads, 'handle'])
  .as('uploads.resume')

/* ---- Generation provider: signed input downloads and signed status webhooks ---- */
router.get('generation/inputs/:runId/:kind', [controllers.GenerationInputs, 'show'])
router.post('webhooks/generation', [controllers.GenerationWebhooks, 'store'])
router.post('webhooks/generation/:provider', [controllers.GenerationWebhooks, 'hosted'])

/* ---- Development only ---- */
router
  .group(() => {
    router.get('mailbox', [controllers.DevMailbox, 'index'])
    router.get('mailbox/:id', [controllers.DevMailbox, 'show'])
    router.get('mailbox/:id/html', [controllers.DevMailbox, 'html'])
  })
  .prefix('dev')
  .use(middleware.devOnly())

/* ---- Operations: health probes (public, read-only, JSON) ---- */
router.get('health', [controllers.Health, 'live'])
router.get('health/ready', [controllers.Health, 'ready'])
