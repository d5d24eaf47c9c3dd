/*
 * Fills the bench database for the pages benchmark through the app's own
 * services (so the rows are what production writes): a user signed up and
 * activated (the services the mailed link leads to), 50 tasks with inputs and a launched run each (runs
 * finished as succeeded or failed, one still queued), and top-ups and
 * debits up to 1,000 applied ledger rows. Prints the id of the task whose
 * status the page polls.
 *
 *   node bin/bench/http/seed.js <email> <password>
 *
 * Runs from the source tree (DATABASE_PATH etc. come from the environment).
 */
import '@poppinss/ts-exec'

const [email, password] = process.argv.slice(2)
const TASKS = 50
const LEDGER_ROWS = 1000

const APP_ROOT = new URL('../../../', import.meta.url)
const { Ignitor } = await import('@adonisjs/core')
const app = new Ignitor(APP_ROOT, {
  importer: (path) =>
    import(path.startsWith('./') || path.startsWith('../') ? new URL(path, APP_ROOT).href : path),
})
  .tap((application) => application.booting(() => import('#start/env')))
  .createApp('console')
await app.init()
await app.boot()

const { DateTime } = await import('luxon')
const { default: User } = await import('#models/user')
const { default: TaskInput } = await import('#models/task_input')
const { default: LedgerEntry } = await import('#models/ledger_entry')
const { default: taskService } = await import('#services/tasks/task_service')
const { default: walletService } = await import('#services/wallet_service')

const { default: accountService } = await import('#services/account_service')
const { user: signedUp } = await accountService.signup(email, password)
const activation = await accountService.activate(
  await accountService.issueToken(signedUp, 'activation')
)
if (!activation.ok) throw new Error(`bench user not activated: ${activation.reason}`)
const user = await User.findByOrFail('email', email)
await walletService.change({
  userId: user.id,
  action: 'topup',
  diff: 1_000_000,
  reference: 'bench:seed:topup',
  description: 'Bench top-up',
})

let polled = ''
for (let index = 0; index < TASKS; index++) {
  const task = await taskService.create(user.id, { name: `Bench clip ${index + 1}`, model: 'lipsync' })
  for (const [kind, mimeType, container, duration] of [
    ['video', 'video/mp4', 'mp4', 12.5],
    ['audio', 'audio/mpeg', 'mp3', 11.2],
  ]) {
    await TaskInput.create({
      taskId: task.id,
      kind,
      storageKey: `tasks/${task.id}/inputs/${kind}.${container}`,
      originalName: `${kind}-${index + 1}.${container}`,
      mimeType,
      container,
      size: 1_234_567,
      duration,
      width: kind === 'video' ? 1280 : null,
      height: kind === 'video' ? 720 : null,
    })
  }
  const run = await taskService.launch(user.id, task.id)
  /* The newest task keeps its run queued (the page shows it active); the others finished. */
  if (index === TASKS - 1) {
    polled = task.id
  } else if (index % 5 === 0) {
    const now = DateTime.now()
    await run.moveTo('failed', {
      errorMessage: 'The generation service could not make this clip.',
      finishedAt: now,
      refundedAt: now,
    })
    await walletService.change({
      userId: user.id,
      action: 'refund',
      diff: run.cost,
      reference: `refund:run:${run.id}`,
      description: `Refund for task "${task.name}" run #${run.number}`,
    })
  } else {
    await run.moveTo('succeeded', {
      outputKey: `tasks/${task.id}/runs/${run.id}/output.mp4`,
      outputSize: 2_345_678,
      finishedAt: DateTime.now(),
    })
  }
}

const applied = async () =>
  Number((await LedgerEntry.query().where('userId', user.id).where('status', 'applied').count('* as total'))[0].$extras.total)
for (let index = await applied(); index < LEDGER_ROWS; index++) {
  await walletService.change({
    userId: user.id,
    action: index % 2 ? 'used' : 'topup',
    diff: index % 2 ? -150 : 200,
    reference: `bench:seed:${index}`,
    description: index % 2 ? `Task "Bench clip" run #${index}` : 'Top-up: small pack',
  })
}

console.log(JSON.stringify({ taskId: polled, ledgerRows: await applied() }))
await app.terminate()
