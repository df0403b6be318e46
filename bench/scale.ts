/**
 * `npm run bench -- scale [--clients N] [--refresh-tokens N] [--duration S] [--connections N] [--rounds R] [--pool N] [--keep] [--seeded DB]`
 *
 * Does Gatehouse slow down as its PostgreSQL database grows? Seeds a fresh database with
 * 1,000,000 clients and 10,000,000 refresh tokens (server-side INSERT … SELECT generate_series,
 * with a progress bar on stderr), then loads a server on it with autocannon beside a server on
 * an empty database, in the same run: client_credentials (clients looked up among the seeded
 * ones) and refresh_token (each request rotates one token: an indexed lookup, an update and an
 * insert in the big table). Rounds alternate the two servers so machine noise hits both alike;
 * the best round of each counts. Prints req/s, p50, p99 and the seeded/empty ratio. Rate limits
 * are off: this measures the store, not the abuse guard.
 * The PostgreSQL server is BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local one.
 * `--keep` keeps the databases; `--seeded DB` measures again on one kept before, without seeding.
 */
import autocannon from 'autocannon'
import pg from 'pg'
import { timeOrderedUuid } from '../src/core/ids.js'
import { systemRandom } from '../src/core/random.js'
import { generateRefreshToken, refreshTokenKey } from '../src/core/tokens/refresh-token-format.js'
import { CLI, serveArgs, option, outputNote, printTable, run, startChild, tempDir, type Child } from './harness.js'

const BASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'
/** The clients requests authenticate as: the first ones of the seed, on both databases. */
const ACTIVE_CLIENTS = 100
const DAY = 86_400_000

const clientId = (i: number): string => `seed-${String(i).padStart(8, '0')}`
const clientSecret = (i: number): string => `seed-secret-${i}`
const basic = (i: number): string => 'Basic ' + Buffer.from(`${clientId(i)}:${clientSecret(i)}`).toString('base64')

function progress(label: string, done: number, total: number): void {
  const width = 30
  const filled = Math.round((done / total) * width)
  process.stderr.write(`\r${label.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((done / total) * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')}`)
  if (done >= total) process.stderr.write('\n')
}

/** Runs `insert(from, to)` over 1..total in chunks, drawing a progress bar. */
async function inChunks(label: string, total: number, chunk: number, insert: (from: number, to: number) => Promise<void>): Promise<void> {
  progress(label, 0, total)
  for (let from = 1; from <= total; from += chunk) {
    const to = Math.min(total, from + chunk - 1)
    await insert(from, to)
    progress(label, to, total)
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

interface BenchDatabase {
  name: string
  url: string
}

async function createDatabase(label: string): Promise<BenchDatabase> {
  const name = `gatehouse_bench_${label}_${Date.now().toString(36)}`
  await withClient(BASE_URL, (client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(BASE_URL)
  url.pathname = `/${name}`
  await run([CLI, 'migrate', '--database', url.toString()], { GATEHOUSE_SECRET: SECRET })
  return { name, url: url.toString() }
}

async function dropDatabase(database: BenchDatabase): Promise<void> {
  await withClient(BASE_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${database.name} WITH (FORCE)`))
}

/** Clients 1..count; client i's secret is `seed-secret-i` (digest computed by PostgreSQL). */
async function seedClients(client: pg.Client, count: number, now: number): Promise<void> {
  await inChunks('clients', count, 100_000, async (from, to) => {
    await client.query(
      `INSERT INTO clients (id, name, secret_digest, grant_types, scopes, default_scopes, audience, token_format,
         access_token_ttl, refresh_absolute_ttl, refresh_sliding_ttl, refresh_reuse_interval, rotate_refresh, created_at, updated_at)
       SELECT 'seed-' || lpad(i::text, 8, '0'), 'seeded client ' || i, encode(sha256(('seed-secret-' || i)::bytea), 'hex'),
         'client_credentials password refresh_token', 'api read', '', NULL, 'jwt', 3600, 2592000, 1296000, 0, 1, $3::bigint, $3::bigint
       FROM generate_series($1::int, $2::int) AS i`,
      [from, to, now],
    )
  })
}

/**
 * A family's id as Gatehouse makes it: a UUIDv7, whose first 12 hex digits are its creation
 * time. Seeded family f was created `(families - f)` seconds before `now`.
 */
const SEEDED_FAMILY_ID = (f: string): string =>
  `(SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-8000-' || lpad((${f})::text, 12, '0')
    FROM (SELECT lpad(to_hex($4::bigint - ($5::bigint - (${f})) * 1000), 12, '0') AS h) AS t)`

/**
 * `tokens` refresh tokens, ten to a family, spread over the clients; a tenth of them unused.
 * Keys and family ids are time-ordered as Gatehouse writes them (`hex(issue time) ‖ SHA-256`),
 * issued over the past weeks, so the measured inserts land where a real deployment's would.
 */
async function seedRefreshTokens(client: pg.Client, tokens: number, clients: number, now: number): Promise<void> {
  const families = Math.ceil(tokens / 10)
  await inChunks('refresh families', families, 250_000, async (from, to) => {
    await client.query(
      `INSERT INTO grants (id, client_id, subject, expires_at, revoked_at, created_at)
       SELECT ${SEEDED_FAMILY_ID('f')}, 'seed-' || lpad((f % $3 + 1)::text, 8, '0'), 'user-' || (f % 50000), $4::bigint + ${30 * DAY}, NULL, $4::bigint
       FROM generate_series($1::int, $2::int) AS f`,
      [from, to, clients, now, families],
    )
  })
  await inChunks('refresh tokens', tokens, 250_000, async (from, to) => {
    await client.query(
      `INSERT INTO refresh_tokens (digest, family_id, client_id, subject, scope, audience, issued_at, expires_at, used_at)
       SELECT lpad(to_hex($4::bigint - ($6::bigint - i) * 100), 12, '0') || encode(sha256(('seed-refresh-' || i)::bytea), 'hex'),
         ${SEEDED_FAMILY_ID('(i - 1) / 10 + 1')},
         'seed-' || lpad((((i - 1) / 10 + 1) % $3 + 1)::text, 8, '0'), 'user-' || (((i - 1) / 10 + 1) % 50000), 'api read', NULL,
         $4::bigint, $4::bigint + ${15 * DAY}, CASE WHEN i % 10 = 0 THEN NULL ELSE $4::bigint END
       FROM generate_series($1::int, $2::int) AS i`,
      [from, to, clients, now, families, tokens],
    )
  })
}

/** Refresh tokens whose plaintext the load generator knows, one family each, for the active clients. */
async function seedRefreshPool(client: pg.Client, count: number, now: number): Promise<{ token: string; client: number }[]> {
  // A refresh re-checks the grant's user: the pool's user exists and is enabled.
  await client.query(
    `INSERT INTO users (id, username, password_hash, name, email, disabled, created_at) VALUES ('bench-user', 'bench-user@example.com', '$argon2id$unused', NULL, NULL, 0, $1::bigint) ON CONFLICT (id) DO NOTHING`,
    [now],
  )
  const pool = Array.from({ length: count }, (_, i) => ({ token: generateRefreshToken(systemRandom, now), client: (i % ACTIVE_CLIENTS) + 1 }))
  for (let start = 0; start < pool.length; start += 5000) {
    const slice = pool.slice(start, start + 5000)
    const families = slice.map(() => timeOrderedUuid(systemRandom, now))
    await client.query(
      `INSERT INTO grants (id, client_id, subject, scope, expires_at, revoked_at, created_at)
       SELECT f, c, 'bench-user', 'api read', $3::bigint + ${30 * DAY}, NULL, $3::bigint FROM unnest($1::text[], $2::text[]) AS t(f, c)`,
      [families, slice.map((entry) => clientId(entry.client)), now],
    )
    await client.query(
      `INSERT INTO refresh_tokens (digest, family_id, client_id, subject, scope, audience, issued_at, expires_at, used_at)
       SELECT d, f, c, 'bench-user', 'api read', NULL, $4::bigint, $4::bigint + ${15 * DAY}, NULL
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(d, f, c)`,
      [slice.map((entry) => refreshTokenKey(entry.token)), families, slice.map((entry) => clientId(entry.client)), now],
    )
  }
  return pool
}

/** `gatehouse serve` on a port, ready once /healthz answers (its output goes to a file: harness.ts). */
function startServer(port: number, env: Record<string, string>): Promise<Child> {
  return startChild(serveArgs('--host', '127.0.0.1', '--port', String(port)), env, `http://127.0.0.1:${port}/healthz`)
}

interface Figures {
  requestsPerSecond: number
  p50: number
  p99: number
  non2xx: number
  errors: number
}

type Scenario = 'client_credentials' | 'refresh_token'

async function load(url: string, scenario: Scenario, pool: { token: string; client: number }[], connections: number, duration: number): Promise<Figures> {
  if (scenario === 'refresh_token' && pool.length === 0) throw new Error('the refresh token pool is used up: raise --pool')
  let next = 0
  const statuses = new Map<number, number>()
  const form = 'application/x-www-form-urlencoded'
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/oauth/token',
        setupRequest: (request: Record<string, unknown>) => {
          if (scenario === 'client_credentials') {
            const i = (next++ % ACTIVE_CLIENTS) + 1
            return { ...request, headers: { 'content-type': form, authorization: basic(i) }, body: 'grant_type=client_credentials&scope=api' }
          }
          // Each refresh token is good once; wrap around only if the pool runs out (then answers are 400s, and counted).
          const entry = pool[next++ % pool.length]!
          return { ...request, headers: { 'content-type': form, authorization: basic(entry.client) }, body: `grant_type=refresh_token&refresh_token=${entry.token}` }
        },
        onResponse: (status: number, body: string) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          if (status !== 200 && (statuses.get(status) ?? 0) <= 2) process.stderr.write(`  ${status}: ${body.slice(0, 200)}\n`)
        },
      },
    ],
  })
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts }
}

export async function main(args: string[]): Promise<void> {
  const clients = option(args, 'clients', 1_000_000)
  const refreshTokens = option(args, 'refresh-tokens', 10_000_000)
  const duration = option(args, 'duration', 10)
  const connections = option(args, 'connections', 50)
  const rounds = option(args, 'rounds', 2)
  const poolSize = option(args, 'pool', 60_000)
  const keep = args.includes('--keep')
  if (clients < ACTIVE_CLIENTS) throw new Error(`--clients must be at least ${ACTIVE_CLIENTS}`)
  const now = Date.now()
  const data = tempDir()
  const databases: BenchDatabase[] = []
  const servers: Child[] = []
  try {
    const empty = await createDatabase('empty')
    databases.push(empty)
    const reuse = args.indexOf('--seeded') >= 0 ? args[args.indexOf('--seeded') + 1] : undefined
    let seeded: BenchDatabase
    let seeding = 'kept from an earlier run'
    if (reuse !== undefined) {
      const url = new URL(BASE_URL)
      url.pathname = `/${reuse}`
      seeded = { name: reuse, url: url.toString() }
    } else {
      seeded = await createDatabase('seeded')
      databases.push(seeded)
      process.stderr.write(`seeding ${seeded.name}: ${clients.toLocaleString('en')} clients, ${refreshTokens.toLocaleString('en')} refresh tokens\n`)
      const started = Date.now()
      await withClient(seeded.url, async (client) => {
        await seedClients(client, clients, now)
        await seedRefreshTokens(client, refreshTokens, clients, now)
      })
      seeding = `seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`
    }
    await withClient(empty.url, (client) => seedClients(client, ACTIVE_CLIENTS, now))
    // Steady state, as a database that grew over months is: vacuumed, analysed, checkpointed, so
    // no autovacuum of freshly loaded tables or checkpoint of the load runs during the measurement.
    for (const database of [empty, seeded]) {
      process.stderr.write(`vacuum, analyze and checkpoint ${database.name}…\n`)
      await withClient(database.url, async (client) => {
        await client.query('VACUUM (ANALYZE)')
        await client.query('CHECKPOINT')
      })
    }
    const rowsOf = async (database: BenchDatabase, table: string): Promise<number> =>
      withClient(database.url, async (client) => Number((await client.query<{ n: string }>(`SELECT reltuples::bigint AS n FROM pg_class WHERE relname = $1`, [table])).rows[0]?.n ?? 0))
    const seededClients = await rowsOf(seeded, 'clients')
    const seededTokens = await rowsOf(seeded, 'refresh_tokens')

    const pools = new Map<BenchDatabase, { token: string; client: number }[]>()
    for (const database of [empty, seeded]) pools.set(database, await withClient(database.url, (client) => seedRefreshPool(client, poolSize, now)))

    const env = (database: BenchDatabase): Record<string, string> => ({
      GATEHOUSE_DATABASE_URL: database.url,
      GATEHOUSE_DATA_DIR: data.path,
      GATEHOUSE_SECRET: SECRET,
      GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn',
      GATEHOUSE_RATE_LIMIT_IP: 'off',
      GATEHOUSE_RATE_LIMIT_CLIENT: 'off',
    })
    const ports = new Map([
      [empty, 18795],
      [seeded, 18796],
    ])
    for (const database of [empty, seeded]) {
      servers.push(await startServer(ports.get(database)!, env(database)))
    }

    const results = new Map<string, Figures>()
    // Each refresh token is used once: every run of the refresh scenario takes its own share.
    const share = Math.floor(poolSize / (rounds + 1))
    const tokensFor = (scenario: Scenario, database: BenchDatabase, count: number) => (scenario === 'refresh_token' ? pools.get(database)!.splice(0, count) : [])
    const label = (database: BenchDatabase): string => (database === empty ? 'empty' : 'seeded')
    for (const scenario of ['client_credentials', 'refresh_token'] as const) {
      for (const database of [empty, seeded]) {
        process.stderr.write(`warming up ${scenario} on ${label(database)}…\n`)
        await load(`http://127.0.0.1:${ports.get(database)}`, scenario, tokensFor(scenario, database, share), connections, 2)
      }
      for (let round = 1; round <= rounds; round++) {
        for (const database of [empty, seeded]) {
          process.stderr.write(`round ${round}/${rounds}: ${scenario} on ${label(database)}…\n`)
          const figures = await load(`http://127.0.0.1:${ports.get(database)}`, scenario, tokensFor(scenario, database, share), connections, duration)
          const key = `${scenario}/${database.name}`
          const previous = results.get(key)
          if (!previous || figures.requestsPerSecond > previous.requestsPerSecond) results.set(key, figures)
        }
      }
    }

    process.stdout.write(
      `\nPostgreSQL scale: seeded database ~${seededClients.toLocaleString('en')} clients + ~${seededTokens.toLocaleString('en')} refresh tokens ` +
        `(${seeding}) vs empty; autocannon -c ${connections} -d ${duration}s, best of ${rounds} rounds, one server process each\n\n`,
    )
    const rows: Record<string, string | number>[] = []
    for (const scenario of ['client_credentials', 'refresh_token'] as const) {
      const base = results.get(`${scenario}/${empty.name}`)!
      for (const [label, database] of [['empty', empty], ['seeded', seeded]] as const) {
        const figures = results.get(`${scenario}/${database.name}`)!
        rows.push({
          scenario,
          database: label,
          'req/s': Math.round(figures.requestsPerSecond),
          'p50 ms': figures.p50,
          'p99 ms': figures.p99,
          'non-2xx': figures.non2xx,
          errors: figures.errors,
          'ratio to empty': (figures.requestsPerSecond / base.requestsPerSecond).toFixed(2),
        })
      }
    }
    printTable(rows)
    process.stdout.write(`${outputNote()}\n`)
  } finally {
    for (const server of servers) await server.stop()
    if (!keep) for (const database of databases) await dropDatabase(database).catch(() => {})
    data.remove()
  }
}
