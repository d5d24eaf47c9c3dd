import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FakeApay } from '../../tests/fakes/apay_server.js'
import type { FakeBigQueryServer } from '../../tests/fakes/bigquery_server.js'
import type { Stats } from './customer.js'

/*
 * What must hold after the chaos, read straight from the database, the
 * storage folder and the fakes' own records (never from the app's code,
 * so the check cannot share a bug with what it checks).
 */

export type Check = { name: string; ok: boolean; detail: string }

type Sources = {
  databasePath: string
  storagePath: string
  apay: FakeApay
  bigQuery: FakeBigQueryServer
  stats: Stats
}

function check(name: string, problems: string[], okDetail: string): Check {
  return {
    name,
    ok: problems.length === 0,
    detail: problems.length
      ? `${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`
      : okDetail,
  }
}

export function runChecks(sources: Sources) {
  const sqlite = new Database(sources.databasePath, { readonly: true, fileMustExist: true })
  try {
    return [
      ledgerInvariant(sqlite),
      ordersCreditedOnce(sqlite, sources.apay),
      runsChargedOnce(sqlite, sources.storagePath),
      ...outboxShippedOnce(sqlite, sources.bigQuery),
      customersSettled(sources.stats),
    ]
  } finally {
    sqlite.close()
  }
}

export function counts(databasePath: string) {
  const sqlite = new Database(databasePath, { readonly: true, fileMustExist: true })
  try {
    const one = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n
    return {
      users: one('SELECT COUNT(*) AS n FROM users'),
      orders: one('SELECT COUNT(*) AS n FROM payment_orders'),
      paidOrders: one(`SELECT COUNT(*) AS n FROM payment_orders WHERE status = 'paid'`),
      runs: one('SELECT COUNT(*) AS n FROM runs'),
      succeededRuns: one(`SELECT COUNT(*) AS n FROM runs WHERE status = 'succeeded'`),
      refundedRuns: one(`SELECT COUNT(*) AS n FROM runs WHERE refunded_at IS NOT NULL`),
      ledgerRows: one('SELECT COUNT(*) AS n FROM ledger_entries'),
      rejectedDebits: one(`SELECT COUNT(*) AS n FROM ledger_entries WHERE status = 'rejected'`),
      outboxRows: one('SELECT COUNT(*) AS n FROM outbox_events'),
    }
  } finally {
    sqlite.close()
  }
}

/** Every balance equals the sum of its applied ledger rows, and none is negative. */
function ledgerInvariant(sqlite: Database.Database) {
  const rows = sqlite
    .prepare(
      `SELECT u.email, u.balance, COALESCE(SUM(l.diff), 0) AS sum
         FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id AND l.status = 'applied'
        GROUP BY u.id HAVING u.balance <> COALESCE(SUM(l.diff), 0) OR u.balance < 0`
    )
    .all() as { email: string; balance: number; sum: number }[]
  const users = (sqlite.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n
  return check(
    'ledger invariant (balance = sum of applied rows, >= 0)',
    rows.map((row) => `${row.email}: balance ${row.balance}, ledger ${row.sum}`),
    `holds for all ${users} users`
  )
}

/** Each paid order credited once with its tokens; nothing else credited; what was paid at apay is paid here. */
function ordersCreditedOnce(sqlite: Database.Database, apay: FakeApay) {
  const problems: string[] = []
  const orders = sqlite
    .prepare('SELECT id, status, tokens, gateway_payment_id FROM payment_orders')
    .all() as { id: string; status: string; tokens: number; gateway_payment_id: string | null }[]
  const credits = new Map<string, number[]>()
  for (const row of sqlite
    .prepare(
      `SELECT reference, diff FROM ledger_entries WHERE action = 'topup' AND status = 'applied'`
    )
    .all() as { reference: string; diff: number }[]) {
    credits.set(row.reference, [...(credits.get(row.reference) ?? []), row.diff])
  }
  const byPayment = new Map(orders.map((order) => [order.gateway_payment_id, order]))
  let paid = 0
  for (const order of orders) {
    const applied = credits.get(`topup:order:${order.id}`) ?? []
    credits.delete(`topup:order:${order.id}`)
    if (order.status === 'paid') {
      paid += 1
      if (applied.length !== 1 || applied[0] !== order.tokens)
        problems.push(`paid order ${order.id} credited ${JSON.stringify(applied)}`)
    } else if (applied.length) {
      problems.push(`${order.status} order ${order.id} credited ${JSON.stringify(applied)}`)
    }
  }
  for (const reference of credits.keys()) problems.push(`credit ${reference} has no order`)
  for (const payment of apay.payments.values()) {
    const order = byPayment.get(payment.id)
    const expected =
      payment.behaviour === 'paid' ? 'paid' : payment.behaviour === 'failed' ? 'failed' : null
    if (!expected) continue /* never paid nor declined: the customer did not finish that checkout */
    if (order?.status !== expected)
      problems.push(
        `apay payment ${payment.id} is ${expected}, its order is ${order?.status ?? 'missing'}`
      )
  }
  return check(
    'every paid order credited exactly once',
    problems,
    `${paid} paid orders, each credited once; every payment made at apay settled its order`
  )
}

/** Each run: one debit of its cost, and either succeeded (with its output) or failed and refunded once. */
function runsChargedOnce(sqlite: Database.Database, storagePath: string) {
  const problems: string[] = []
  const runs = sqlite
    .prepare('SELECT id, status, cost, refunded_at, output_key FROM runs')
    .all() as {
    id: string
    status: string
    cost: number
    refunded_at: string | null
    output_key: string | null
  }[]
  const ledger = new Map<string, number[]>()
  for (const row of sqlite
    .prepare(
      `SELECT reference, diff FROM ledger_entries WHERE status = 'applied' AND action IN ('used', 'refund')`
    )
    .all() as { reference: string; diff: number }[]) {
    ledger.set(row.reference, [...(ledger.get(row.reference) ?? []), row.diff])
  }
  let succeeded = 0
  let refunded = 0
  for (const run of runs) {
    const debits = ledger.get(`used:run:${run.id}`) ?? []
    const refunds = ledger.get(`refund:run:${run.id}`) ?? []
    ledger.delete(`used:run:${run.id}`)
    ledger.delete(`refund:run:${run.id}`)
    if (debits.length !== 1 || debits[0] !== -run.cost)
      problems.push(`run ${run.id} debited ${JSON.stringify(debits)} (cost ${run.cost})`)
    if (run.status === 'succeeded') {
      succeeded += 1
      if (refunds.length) problems.push(`succeeded run ${run.id} also refunded`)
      if (!run.output_key || !existsSync(join(storagePath, run.output_key)))
        problems.push(`succeeded run ${run.id} has no stored output`)
    } else if (run.status === 'failed') {
      refunded += 1
      if (refunds.length !== 1 || refunds[0] !== run.cost || !run.refunded_at)
        problems.push(`failed run ${run.id} refunded ${JSON.stringify(refunds)}`)
    } else {
      problems.push(`run ${run.id} is still ${run.status}`)
    }
  }
  for (const reference of ledger.keys()) problems.push(`${reference} has no run`)
  return check(
    'every run charged once, then succeeded or refunded',
    problems,
    `${runs.length} runs: ${succeeded} succeeded, ${refunded} failed and refunded once, none left running`
  )
}

/** Every outbox row sent, and stored in BigQuery exactly once (by insertId); one event per fact. */
function outboxShippedOnce(sqlite: Database.Database, bigQuery: FakeBigQueryServer): Check[] {
  const rows = sqlite
    .prepare('SELECT table_name, insert_id, status, payload FROM outbox_events')
    .all() as { table_name: string; insert_id: string; status: string; payload: string }[]
  const shipping: string[] = []
  const facts: string[] = []
  const notSent = rows.filter((row) => row.status !== 'sent')
  if (notSent.length) shipping.push(`${notSent.length} rows not sent (${notSent[0].status})`)
  let resent = 0
  for (const table of new Set(rows.map((row) => row.table_name))) {
    const ours = rows.filter((row) => row.table_name === table).map((row) => row.insert_id)
    const wanted = new Set(ours)
    if (wanted.size !== ours.length) shipping.push(`${table}: an insert_id is used twice`)
    /* BigQuery keeps one row per insertId: each of ours must be there, and nothing else. */
    const stored = new Set(storedInsertIds(bigQuery, table))
    for (const id of wanted) if (!stored.has(id)) shipping.push(`${table}: row ${id} never arrived`)
    for (const id of stored) if (!wanted.has(id)) shipping.push(`${table}: row ${id} is not ours`)
    const sent = bigQuery.sentInsertIds(table)
    resent += sent.length - new Set(sent).size
  }
  /* One analytics fact per real fact: a balance change or a launch recorded twice would count twice. */
  const balanceEvents = new Map<string, number>()
  const launches = new Map<string, number>()
  for (const row of rows) {
    const payload = JSON.parse(row.payload)
    if (row.table_name === 'token_balance_changes' && payload.status === 'applied')
      balanceEvents.set(payload.reference, (balanceEvents.get(payload.reference) ?? 0) + 1)
    if (row.table_name === 'generation_launches') {
      const runId = payload.task_properties?.run_id
      launches.set(runId, (launches.get(runId) ?? 0) + 1)
    }
  }
  for (const [reference, n] of balanceEvents)
    if (n !== 1) facts.push(`balance change ${reference} recorded ${n} times`)
  const appliedRows = sqlite
    .prepare(`SELECT reference FROM ledger_entries WHERE status = 'applied'`)
    .all() as { reference: string }[]
  for (const { reference } of appliedRows)
    if (!balanceEvents.has(reference)) facts.push(`balance change ${reference} has no event`)
  const submitted = sqlite
    .prepare('SELECT id FROM runs WHERE provider_job_id IS NOT NULL')
    .all() as { id: string }[]
  for (const { id } of submitted)
    if (launches.get(id) !== 1) facts.push(`run ${id} has ${launches.get(id) ?? 0} launch events`)
  for (const runId of launches.keys())
    if (!submitted.some((run) => run.id === runId))
      facts.push(`launch event for unknown run ${runId}`)
  return [
    check(
      'every outbox row shipped exactly once (BigQuery rows by insertId)',
      shipping,
      `${rows.length} rows, each stored once in BigQuery (${resent} re-sends after kills, de-duplicated by insertId)`
    ),
    check(
      'one analytics event per balance change and per launch',
      facts,
      `${appliedRows.length} applied balance changes and ${submitted.length} launches, one event each`
    ),
  ]
}

function storedInsertIds(bigQuery: FakeBigQueryServer, table: string) {
  for (const [key, state] of bigQuery.tables)
    if (key.split('/').pop() === table) return [...state.rows.keys()]
  return []
}

/** What the customers saw: nothing left pending or running when they gave up. */
function customersSettled(stats: Stats) {
  return check(
    'no customer left with a pending order or an unfinished run',
    stats.stuck,
    `${stats.activated} customers activated, ${stats.payments.size} checkouts settled, ${stats.runs.size} runs finished`
  )
}

/** Staging files: what a killed web process left, and what the sweep left. */
export function stagingCheck(
  before: string[],
  leakedByLive: string[],
  after: string[],
  abandonedUploads = 0
): Check {
  const problems = [
    ...leakedByLive.map((name) => `staging file ${name} left by a process that was never killed`),
    ...after.map((name) => `staging file ${name} outlived the sweep`),
  ]
  return check(
    'no staging file outlives the sweep',
    problems,
    `${before.length} staging files left by killed processes and ${abandonedUploads} abandoned resumable uploads, all removed by the sweeps`
  )
}
