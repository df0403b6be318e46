/**
 * `npm run bench -- soak [--minutes N] [--rate R] [--connections C] [--database URL]`: a steady
 * mixed load (client_credentials, password, refresh_token, introspection) against a child
 * `gatehouse serve` for N minutes (default 10) at about R requests a second (default 150).
 * Prints, per minute, requests, errors and p99 latency, and the server's RSS at start, after
 * the first minute (warm) and at the end. Targets: 0 errors; RSS growth < 10 % from warm to end.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../src/config.js'
import { createGatehouse } from '../src/gatehouse.js'
import { createLogger } from '../src/logger.js'
import { CLI, freePort, printTable, tempDir } from './harness.js'

const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'
/** Share of each operation in the mix (password is argon2-bound, so rarer). */
const MIX = [
  { op: 'client_credentials', weight: 40 },
  { op: 'refresh_token', weight: 30 },
  { op: 'introspect', weight: 20 },
  { op: 'password', weight: 10 },
] as const
type Op = (typeof MIX)[number]['op']

function textOption(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`)
  return index >= 0 ? args[index + 1] : undefined
}

function numberOption(args: string[], name: string, fallback: number): number {
  const value = Number(textOption(args, name) ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

/** Resident set size of a process, from /proc (Linux), in MiB. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN)
  return kb / 1024
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

function pick(): Op {
  let roll = Math.random() * 100
  for (const { op, weight } of MIX) {
    roll -= weight
    if (roll < 0) return op
  }
  return 'client_credentials'
}

interface Minute {
  requests: number
  errors: number
  latencies: number[]
  byOp: Record<string, number>
}

export async function main(args: string[]): Promise<void> {
  const minutes = numberOption(args, 'minutes', 10)
  const rate = numberOption(args, 'rate', 150)
  const connections = numberOption(args, 'connections', 8)
  const data = tempDir()
  const databaseUrl = textOption(args, 'database') ?? `sqlite:${join(data.path, 'gatehouse.db')}`
  const env: Record<string, string> = {
    GATEHOUSE_DATABASE_URL: databaseUrl,
    GATEHOUSE_DATA_DIR: data.path,
    GATEHOUSE_SECRET: SECRET,
    GATEHOUSE_ISSUER: 'https://gatehouse.bench',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn',
    // The load comes from one address and a few clients: limits stay on, sized above the load.
    GATEHOUSE_RATE_LIMIT_IP: '1000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: '1000000/1m',
  }

  // Clients and users, created before the server starts.
  const seedConfig = loadConfig({ database: databaseUrl }, env)
  const seeded = await createGatehouse(seedConfig, { logger: createLogger('warn') })
  const app = await seeded.clients.create({ name: 'soak', grantTypes: ['client_credentials', 'password', 'refresh_token'], scopes: ['api'], tokenFormat: 'jwt' })
  const users = Array.from({ length: connections }, (_, i) => ({ username: `soak${i}@example.com`, password: `soak password ${i}!` }))
  for (const user of users) await seeded.users.create(user)
  await seeded.close()
  const authorization = 'Basic ' + Buffer.from(`${app.client.id}:${app.clientSecret}`).toString('base64')

  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port)], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  for (const deadline = Date.now() + 30_000; ; ) {
    if (child.exitCode !== null) throw new Error(`gatehouse serve exited with ${child.exitCode}`)
    if (await fetch(`${url}/healthz`).then((response) => response.ok, () => false)) break
    if (Date.now() > deadline) throw new Error('gatehouse serve did not answer /healthz within 30 s')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const server = { stop: () => (child.kill('SIGTERM'), exited) }
  const pid = child.pid as number
  const rssStart = rssMiB(pid)

  const post = async (path: string, fields: Record<string, string>): Promise<{ ok: boolean; body: Record<string, unknown> }> => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      body: new URLSearchParams(fields).toString(),
    })
    const body = (await response.json()) as Record<string, unknown>
    return { ok: response.status === 200, body }
  }

  const started = Date.now()
  const end = started + minutes * 60_000
  const perMinute: Minute[] = []
  const minuteOf = (at: number): Minute => {
    const index = Math.floor((at - started) / 60_000)
    while (perMinute.length <= index) perMinute.push({ requests: 0, errors: 0, latencies: [], byOp: {} })
    return perMinute[index] as Minute
  }
  let rssWarm: number | undefined
  const warmTimer = setTimeout(() => (rssWarm = rssMiB(pid)), Math.min(60_000, minutes * 60_000 / 2))
  let firstErrors: string[] = []

  /** One connection's loop: paced so the whole load runs at `rate`. */
  const worker = async (index: number): Promise<void> => {
    const user = users[index] as { username: string; password: string }
    let refreshToken: string | undefined
    let accessToken: string | undefined
    const interval = (1000 * connections) / rate
    let next = Date.now() + Math.random() * interval
    while (Date.now() < end) {
      const wait = next - Date.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      next += interval
      let op = pick()
      if (op === 'refresh_token' && !refreshToken) op = 'password'
      if (op === 'introspect' && !accessToken) op = 'client_credentials'
      const at = Date.now()
      let ok = false
      try {
        if (op === 'client_credentials') {
          const answer = await post('/oauth/token', { grant_type: 'client_credentials' })
          ok = answer.ok
          if (ok) accessToken = answer.body.access_token as string
          else firstErrors.push(`${op}: ${JSON.stringify(answer.body)}`)
        } else if (op === 'password' || op === 'refresh_token') {
          const fields: Record<string, string> =
            op === 'password' ? { grant_type: 'password', ...user } : { grant_type: 'refresh_token', refresh_token: refreshToken as string }
          const answer = await post('/oauth/token', fields)
          ok = answer.ok
          if (ok) {
            refreshToken = answer.body.refresh_token as string
            accessToken = answer.body.access_token as string
          } else firstErrors.push(`${op}: ${JSON.stringify(answer.body)}`)
        } else {
          const answer = await post('/oauth/introspect', { token: accessToken as string })
          ok = answer.ok && answer.body.active === true
          if (!ok) firstErrors.push(`${op}: ${JSON.stringify(answer.body)}`)
        }
      } catch (error) {
        firstErrors.push(`${op}: ${(error as Error).message}`)
      }
      if (firstErrors.length > 5) firstErrors = firstErrors.slice(0, 5)
      const minute = minuteOf(at)
      minute.requests++
      minute.latencies.push(Date.now() - at)
      minute.byOp[op] = (minute.byOp[op] ?? 0) + 1
      if (!ok) minute.errors++
    }
  }

  process.stdout.write(`soak: ${minutes} min at ~${rate} req/s over ${connections} connections, ${databaseUrl.split(':')[0]}; server pid ${pid}\n`)
  const progress = setInterval(() => {
    const current = perMinute.at(-1)
    if (current) process.stdout.write(`  minute ${perMinute.length}: ${current.requests} requests, ${current.errors} errors so far, RSS ${rssMiB(pid).toFixed(1)} MiB\n`)
  }, 60_000)
  try {
    await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)))
  } finally {
    clearInterval(progress)
    clearTimeout(warmTimer)
  }
  const finished = Date.now()
  const rssEnd = rssMiB(pid)
  await server.stop()
  data.remove()

  printTable(
    perMinute.map((minute, i) => {
      const sorted = [...minute.latencies].sort((a, b) => a - b)
      return {
        minute: i + 1,
        requests: minute.requests,
        'req/s': (minute.requests / Math.max(1, Math.min(60, (finished - started) / 1000 - i * 60))).toFixed(1),
        errors: minute.errors,
        'p50 ms': percentile(sorted, 50),
        'p99 ms': percentile(sorted, 99),
        mix: MIX.map(({ op }) => `${op.split('_')[0]}:${minute.byOp[op] ?? 0}`).join(' '),
      }
    }),
  )
  const total = perMinute.reduce((sum, minute) => sum + minute.requests, 0)
  const errors = perMinute.reduce((sum, minute) => sum + minute.errors, 0)
  const warm = rssWarm ?? rssStart
  const growth = ((rssEnd - warm) / warm) * 100
  process.stdout.write(
    [
      `requests: ${total}, errors: ${errors} (target 0)`,
      `server RSS: start ${rssStart.toFixed(1)} MiB (before load), warm ${warm.toFixed(1)} MiB (after minute 1), end ${rssEnd.toFixed(1)} MiB`,
      `RSS growth warm → end: ${growth.toFixed(1)} % (target < 10 %); start → end: ${(((rssEnd - rssStart) / rssStart) * 100).toFixed(1)} %`,
      ...(firstErrors.length ? ['first errors:', ...firstErrors.map((error) => `  ${error}`)] : []),
    ].join('\n') + '\n',
  )
  if (errors > 0) process.exitCode = 1
}
