/**
 * `npm run bench -- soak [--minutes N] [--rate R] [--connections C] [--databases sqlite,postgres]
 * [--postgres URL] [--probe S]`: a steady mixed load (client_credentials, password,
 * refresh_token, introspection) against a child `gatehouse serve` at its default settings,
 * for N minutes (default 10) on each database in turn, at a fixed rate of R requests a second
 * (autocannon's `overallRate`). Without --rate, it first measures the server's maximum on the
 * same mix (S seconds unpaced, default 15) and holds 70 % of it. Prints, per minute, requests,
 * errors, p50/p99 latency, the server's RSS (read once a second: the minute's mean and peak) and
 * its V8 heap (used and reserved, read from its own /metrics). The server runs with the V8 flags
 * `npm start` gives it (serveArgs). Targets (issue 15): 0 errors; each minute's p99 within 1.5x
 * of the first warm minute's (minute 2: minute 1 holds the JIT's and the caches' warm-up); RSS
 * after warm-up within 10 % of minute 2's, by each minute's mean and by its peak. The heap
 * columns tell a leak (heap used climbing) from memory the process reserved and keeps (heap used
 * flat while RSS moves).
 *
 * PostgreSQL: a fresh database is created beside the one --postgres names (default
 * postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { loadConfig } from '../src/config.js'
import { createGatehouse } from '../src/gatehouse.js'
import { createLogger } from '../src/logger.js'
import { serveArgs, freePort, outputNote, placementNote, printTable, separateCpus, startChild, tempDir } from './harness.js'

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

function numberOption(args: string[], name: string, fallback: number | undefined): number | undefined {
  const text = textOption(args, name)
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

/** Resident set size of a process, from /proc (Linux), in MiB. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024
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
  /** RSS (MiB), read once a second: a single reading swings by a password hash's 19 MiB buffer. */
  rssSamples: number[]
  /** V8 heap used and reserved (MiB) at the end of the minute, from the server's /metrics. */
  heapUsed: number
  heapTotal: number
}

/** A database to soak: its URL and how to drop it afterwards. */
interface Database {
  kind: 'sqlite' | 'postgres'
  url: string
  drop(): Promise<void>
}

async function postgresDatabase(base: string): Promise<Database> {
  const name = `gatehouse_soak_${Date.now().toString(36)}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end())
  const url = new URL(base)
  url.pathname = `/${name}`
  return {
    kind: 'postgres',
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => client.end())
    },
  }
}

/**
 * The mixed load, as autocannon requests. Tokens are shared by all connections (autocannon
 * resets a connection's context after each pass over its request list): a refresh token is
 * taken from the pool when sent and its successor put back from the answer, so none is used
 * twice; without one in the pool the request is a password grant instead, and introspection
 * without an access token yet is a client_credentials request.
 */
function mixedLoad(authorization: string, users: { username: string; password: string }[], onFailure: (op: Op, detail: string) => void) {
  const refreshTokens: string[] = []
  let accessToken: string | undefined
  let nextUser = 0
  const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString()
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    requests: [
      {
        method: 'POST',
        setupRequest(request: Record<string, unknown>, context: Record<string, unknown>) {
          let op = pick()
          if (op === 'refresh_token' && refreshTokens.length === 0) op = 'password'
          if (op === 'introspect' && accessToken === undefined) op = 'client_credentials'
          context.op = op
          if (op === 'introspect') return { ...request, path: '/oauth/introspect', body: form({ token: accessToken as string }) }
          if (op === 'refresh_token') return { ...request, path: '/oauth/token', body: form({ grant_type: 'refresh_token', refresh_token: refreshTokens.shift() as string }) }
          if (op === 'password') {
            const user = users[nextUser++ % users.length] as { username: string; password: string }
            return { ...request, path: '/oauth/token', body: form({ grant_type: 'password', ...user }) }
          }
          return { ...request, path: '/oauth/token', body: form({ grant_type: 'client_credentials' }) }
        },
        onResponse(status: number, body: string, context: Record<string, unknown>) {
          const op = context.op as Op
          let answer: Record<string, unknown> = {}
          try {
            answer = JSON.parse(body) as Record<string, unknown>
          } catch {
            // counted below: a 200 must be JSON
          }
          if (status !== 200) return onFailure(op, `${status} ${body.slice(0, 200)}`)
          if (op === 'introspect') {
            if (answer.active !== true) onFailure(op, `inactive: ${body.slice(0, 200)}`)
            return
          }
          if (typeof answer.access_token !== 'string') return onFailure(op, `no access_token: ${body.slice(0, 200)}`)
          accessToken = answer.access_token
          // Bounded: a pool of a few hundred families is plenty of refresh work.
          if (typeof answer.refresh_token === 'string' && refreshTokens.length < 500) refreshTokens.push(answer.refresh_token)
        },
      },
    ],
  }
}

interface Run {
  perMinute: Minute[]
  total: number
  errors: number
  firstErrors: string[]
  rate: number
  measuredMax: number | undefined
  rssStart: number
}

async function soakOne(database: Database, options: { minutes: number; rate: number | undefined; connections: number; probe: number; cpus: ReturnType<typeof separateCpus> }, data: string): Promise<Run> {
  const env: Record<string, string> = {
    GATEHOUSE_DATABASE_URL: database.url,
    GATEHOUSE_DATA_DIR: data,
    GATEHOUSE_SECRET: SECRET,
    GATEHOUSE_ISSUER: 'https://gatehouse.bench',
    // Default settings (log level info, metrics on); the load comes from one address and one client: limits on, sized above it.
    GATEHOUSE_RATE_LIMIT_IP: '100000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: '100000000/1m',
  }
  // Clients and users, created before the server starts.
  const seeded = await createGatehouse(loadConfig({ database: database.url }, env), { logger: createLogger('warn') })
  const app = await seeded.clients.create({ name: 'soak', grantTypes: ['client_credentials', 'password', 'refresh_token'], scopes: ['api'], tokenFormat: 'jwt' })
  const users = Array.from({ length: 16 }, (_, i) => ({ username: `soak${i}@example.com`, password: `soak password ${i}!` }))
  for (const user of users) await seeded.users.create(user)
  await seeded.close()
  const authorization = 'Basic ' + Buffer.from(`${app.client.id}:${app.clientSecret}`).toString('base64')

  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const server = await startChild(serveArgs('--host', '127.0.0.1', '--port', String(port)), env, `${url}/healthz`, options.cpus?.server)
  const pid = server.process.pid as number
  const rssStart = rssMiB(pid)
  const firstErrors: string[] = []
  let failures = 0
  const onFailure = (op: Op, detail: string): void => {
    failures++
    if (firstErrors.length < 5) firstErrors.push(`${op}: ${detail}`)
  }
  try {
    let measuredMax: number | undefined
    if (options.rate === undefined) {
      process.stderr.write(`${database.kind}: measuring the maximum of the mix (${options.probe} s unpaced)…\n`)
      const probe = await autocannon({ url, connections: options.connections, duration: options.probe, ...mixedLoad(authorization, users, () => {}) })
      measuredMax = probe.requests.average as number
    }
    const rate = Math.max(1, Math.round(options.rate ?? 0.7 * (measuredMax as number)))
    process.stderr.write(`${database.kind}: ${options.minutes} min at ${rate} req/s over ${options.connections} connections; server pid ${pid}\n`)
    const perMinute: Minute[] = []
    const started = Date.now()
    const minuteOf = (at: number): Minute => {
      // Answers to requests still under way when the run ends belong to its last minute.
      const index = Math.min(Math.floor((at - started) / 60_000), Math.ceil(options.minutes) - 1)
      while (perMinute.length <= index) perMinute.push({ requests: 0, errors: 0, latencies: [], byOp: {}, rssSamples: [], heapUsed: 0, heapTotal: 0 })
      return perMinute[index] as Minute
    }
    // Failures are attributed to the minute they were answered in.
    let counted = 0
    const instance = autocannon({ url, connections: options.connections, duration: options.minutes * 60, overallRate: rate, ...mixedLoad(authorization, users, onFailure) })
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      const minute = minuteOf(Date.now())
      minute.requests++
      minute.latencies.push(responseTime)
      minute.errors += failures - counted
      counted = failures
    })
    instance.on('reqError', (error: Error) => {
      const minute = minuteOf(Date.now())
      minute.requests++
      minute.errors++
      if (firstErrors.length < 5) firstErrors.push(`request error: ${error.message}`)
    })
    // RSS once a second (a minute's mean and peak), the heap at the end of each minute.
    const rssSampler = setInterval(() => minuteOf(Date.now()).rssSamples.push(rssMiB(pid)), 1000)
    const sample = async (minute: Minute | undefined): Promise<void> => {
      if (!minute) return
      Object.assign(minute, await heapMiB(url).catch(() => ({})))
    }
    // The minute that was under way a second ago (a timer firing on a minute's edge reports the one it ends).
    const lastSecondsMinute = (): Minute | undefined => perMinute[Math.floor((Date.now() - started - 1000) / 60_000)]
    const sampler = setInterval(() => void sample(lastSecondsMinute()), 60_000)
    const progress = setInterval(() => {
      const current = lastSecondsMinute()
      if (current) process.stderr.write(`  ${database.kind} minute ${perMinute.indexOf(current) + 1}: ${current.requests} requests, ${current.errors} errors so far, RSS ${rssMiB(pid).toFixed(1)} MiB\n`)
    }, 30_000)
    try {
      await instance
    } finally {
      clearInterval(sampler)
      clearInterval(rssSampler)
      clearInterval(progress)
    }
    const last = perMinute.at(-1)
    if (last && last.heapTotal === 0) await sample(last)
    const total = perMinute.reduce((sum, minute) => sum + minute.requests, 0)
    const errors = perMinute.reduce((sum, minute) => sum + minute.errors, 0)
    return { perMinute, total, errors, firstErrors, rate, measuredMax, rssStart }
  } finally {
    await server.stop()
  }
}

const rssMean = (minute: Minute): number => minute.rssSamples.reduce((sum, value) => sum + value, 0) / Math.max(1, minute.rssSamples.length)
const rssPeak = (minute: Minute): number => Math.max(0, ...minute.rssSamples)

/** The server's V8 heap, used and reserved, from its Prometheus metrics (prom-client's default ones). */
async function heapMiB(url: string): Promise<{ heapUsed: number; heapTotal: number }> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const read = (name: string): number => Number(new RegExp(`^gatehouse_nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20
  return { heapUsed: read('heap_size_used_bytes'), heapTotal: read('heap_size_total_bytes') }
}

export async function main(args: string[]): Promise<void> {
  const minutes = numberOption(args, 'minutes', 10) as number
  const rate = numberOption(args, 'rate', undefined)
  const connections = numberOption(args, 'connections', 16) as number
  const probe = numberOption(args, 'probe', 15) as number
  const kinds = (textOption(args, 'databases') ?? 'sqlite,postgres').split(',').map((kind) => kind.trim())
  const postgres = textOption(args, 'postgres') ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const cpus = separateCpus()
  // Default settings: the bench's own environment must not change the server's log level.
  delete process.env.GATEHOUSE_LOG_LEVEL
  delete process.env.LOG_LEVEL
  let failed = false
  for (const kind of kinds) {
    if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`--databases: sqlite and/or postgres, not ${kind}`)
    const data = tempDir()
    const database: Database = kind === 'sqlite' ? { kind, url: `sqlite:${join(data.path, 'gatehouse.db')}`, drop: async () => {} } : await postgresDatabase(postgres)
    try {
      const run = await soakOne(database, { minutes, rate, connections, probe, cpus }, data.path)
      process.stdout.write(
        `\nsoak on ${kind}: ${minutes} min at a fixed ${run.rate} req/s (${run.measuredMax === undefined ? 'given by --rate' : `70 % of the ${Math.round(run.measuredMax)} req/s measured first on the same mix`}), ` +
          `autocannon -c ${connections}, ${placementNote(cpus)}, Gatehouse at default settings (log level info)\n\n`,
      )
      printTable(
        run.perMinute.map((minute, i) => {
          const sorted = [...minute.latencies].sort((a, b) => a - b)
          return {
            minute: i + 1,
            requests: minute.requests,
            // The last minute may be partial (--minutes 1.5).
            'req/s': (minute.requests / Math.min(60, minutes * 60 - i * 60)).toFixed(1),
            errors: minute.errors,
            'p50 ms': percentile(sorted, 50).toFixed(1),
            'p99 ms': percentile(sorted, 99).toFixed(1),
            'RSS mean MiB': rssMean(minute).toFixed(1),
            'RSS peak MiB': rssPeak(minute).toFixed(1),
            'heap used MiB': minute.heapUsed.toFixed(1),
            'heap total MiB': minute.heapTotal.toFixed(1),
          }
        }),
      )
      const first = run.perMinute[0] ? rssMean(run.perMinute[0]) : run.rssStart
      const end = run.perMinute.at(-1)?.rssSamples.at(-1) ?? run.rssStart
      // The acceptance's measures: from the first warm minute (2) on.
      const warm = run.perMinute.slice(1)
      const p99Of = (minute: Minute): number => percentile([...minute.latencies].sort((a, b) => a - b), 99)
      const warmP99 = warm[0] ? p99Of(warm[0]) : 0
      const worstP99 = Math.max(...warm.map(p99Of))
      // RSS against minute 2's, by the minute's mean and by its peak.
      const rssLine = (label: string, of: (minute: Minute) => number): string => {
        const values = warm.map(of)
        const base = values[0] as number
        const low = Math.min(...values)
        const high = Math.max(...values)
        const spread = Math.max(high - base, base - low) / base
        return `RSS after warm-up, ${label}: ${low.toFixed(1)} to ${high.toFixed(1)} MiB against ${base.toFixed(1)} MiB in minute 2, within ${(spread * 100).toFixed(1)} % (target within 10 %)`
      }
      process.stdout.write(
        [
          `requests: ${run.total}, errors: ${run.errors} (target 0); mix ${MIX.map(({ op, weight }) => `${op} ${weight} %`).join(', ')}`,
          `server RSS: ${run.rssStart.toFixed(1)} MiB before the load, ${first.toFixed(1)} MiB in minute 1 (mean), ${end.toFixed(1)} MiB at the end (${(((end - first) / first) * 100).toFixed(1)} % from minute 1)`,
          ...(warm.length > 0
            ? [
                `p99 after warm-up: at most ${worstP99.toFixed(1)} ms against ${warmP99.toFixed(1)} ms in minute 2, ${(worstP99 / warmP99).toFixed(2)}x (target <= 1.5x)`,
                rssLine("each minute's mean", rssMean),
                rssLine("each minute's peak", rssPeak),
              ]
            : []),
          ...(run.firstErrors.length ? ['first errors:', ...run.firstErrors.map((error) => `  ${error}`)] : []),
          outputNote(),
          '',
        ].join('\n'),
      )
      if (run.errors > 0) failed = true
    } finally {
      await database.drop()
      data.remove()
    }
  }
  if (failed) process.exitCode = 1
}
