/**
 * `npm run bench -- refresh [--duration S] [--connections N] [--rounds R] [--database sqlite|postgres|both]`:
 * the refresh_token grant with rotation (RFC 9700 §4.14.2) beside client_credentials JWT on the
 * same database and server, SQLite and PostgreSQL (TEST_DATABASE_URL's server, in a database
 * made for the run and dropped after).
 *
 * One refresh chain per connection, each used by one request at a time: a request takes a
 * chain's token, its answer gives the successor, which is sent next, as a real client must (a
 * rotated token presented again would end the grant). The chains start from password grants
 * made before each measurement. Rounds alternate the two rows; the median of the per-round ratios
 * refresh / client_credentials is the figure the target is judged on.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { CLI, serveArgs, freePort, option, outputNote, placementNote, printTable, run, separateCpus, startChild, tempDir } from './harness.js'

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function runWithInput(args: string[], env: Record<string, string>, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))))
    child.stdin.end(input)
  })
}

type Row = { rate: number; p50: number; p99: number; non2xx: number; errors: number }

/**
 * The chains wait in a queue: a request takes one, its answer puts the successor back, so each
 * chain is used by one request at a time and the queue never runs dry while every answer is a
 * 200 (one chain per connection). autocannon's per-connection context cannot hold them: it is
 * reset each time a connection's request list starts over.
 */
async function measureRefresh(url: string, authorization: string, chains: string[], connections: number, duration: number): Promise<Row> {
  const waiting = [...chains]
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    requests: [
      {
        method: 'POST',
        setupRequest: (request: Record<string, unknown>) => ({ ...request, body: `grant_type=refresh_token&refresh_token=${waiting.shift() ?? 'exhausted'}` }) as never,
        onResponse: (status: number, body: string) => {
          if (status === 200) waiting.push((JSON.parse(body) as { refresh_token: string }).refresh_token)
        },
      },
    ] as never,
  })
  return { rate: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts }
}

async function measurePlain(url: string, authorization: string, connections: number, duration: number): Promise<Row> {
  const result = await autocannon({ url, method: 'POST', connections, duration, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body: 'grant_type=client_credentials&scope=api' })
  return { rate: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts }
}

async function benchDatabase(kind: 'sqlite' | 'postgres', options: { duration: number; connections: number; rounds: number; cpus: ReturnType<typeof separateCpus> }): Promise<Record<string, string | number>[]> {
  const data = tempDir()
  const databaseName = `bench_refresh_${process.pid}`
  let databaseUrl = `sqlite:${join(data.path, 'gatehouse.db')}`
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: POSTGRES_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${databaseName}`)
    await admin.end()
    const url = new URL(POSTGRES_URL)
    url.pathname = `/${databaseName}`
    databaseUrl = url.toString()
  }
  const env = {
    GATEHOUSE_DATABASE_URL: databaseUrl,
    GATEHOUSE_DATA_DIR: data.path,
    GATEHOUSE_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn',
    GATEHOUSE_RATE_LIMIT_IP: '100000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: '100000000/1m',
  }
  const { cpus } = options
  try {
    await run([CLI, 'migrate'], env)
    const create = async (args: string[]): Promise<{ client_id: string; client_secret: string }> =>
      JSON.parse(await run([CLI, 'clients', 'create', '--name', 'bench', '--scope', 'api', '--token-format', 'jwt', ...args, '--json'], env)) as { client_id: string; client_secret: string }
    const plain = await create([])
    const refreshing = await create(['--grant', 'password', '--grant', 'refresh_token'])
    await runWithInput([CLI, 'users', 'create', '--username', 'bench@example.com', '--password-stdin'], env, 'bench password 123')
    const basic = (c: { client_id: string; client_secret: string }): string => 'Basic ' + Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')
    const port = await freePort()
    const server = await startChild(serveArgs('--port', String(port)), env, `http://127.0.0.1:${port}/healthz`, cpus?.server)
    const url = `http://127.0.0.1:${port}/oauth/token`
    try {
      // Fresh chains for every run: a request in flight when autocannon stops may have rotated a
      // chain's last token without its answer being read, and presenting that token again is reuse.
      const chains: string[] = []
      const freshChains = async (): Promise<void> => {
        chains.length = 0
        for (let i = 0; i < options.connections; i++) {
          const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(refreshing) }, body: 'grant_type=password&username=bench%40example.com&password=bench+password+123&scope=api' })
          if (answer.status !== 200) throw new Error(`password grant answered ${answer.status}: ${await answer.text()}`)
          chains.push(((await answer.json()) as { refresh_token: string }).refresh_token)
        }
      }
      const best: { plain?: Row; refresh?: Row } = {}
      const ratios: number[] = []
      process.stderr.write(`${kind}: warming up…\n`)
      await measurePlain(url, basic(plain), options.connections, 2)
      await freshChains()
      await measureRefresh(url, basic(refreshing), chains, options.connections, 2)
      for (let round = 1; round <= options.rounds; round++) {
        process.stderr.write(`${kind}: round ${round}/${options.rounds}\n`)
        const p = await measurePlain(url, basic(plain), options.connections, options.duration)
        await freshChains()
        const r = await measureRefresh(url, basic(refreshing), chains, options.connections, options.duration)
        ratios.push(r.rate / p.rate)
        if (!best.plain || p.rate > best.plain.rate) best.plain = p
        if (!best.refresh || r.rate > best.refresh.rate) best.refresh = r
      }
      const sorted = [...ratios].sort((a, b) => a - b)
      const middle = Math.floor(sorted.length / 2)
      const med = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
      const row = (name: string, f: Row, ratio: string): Record<string, string | number> => ({
        scenario: `${kind}: ${name}`,
        'best req/s': Math.round(f.rate),
        'p50 ms': f.p50,
        'p99 ms': f.p99,
        'refresh / cc (median of rounds)': ratio,
        rounds: name === 'refresh_token (rotation)' ? ratios.map((x) => Math.round(x * 100)).join(' ') : '',
        'non-2xx': f.non2xx,
        errors: f.errors,
      })
      return [row('client_credentials, JWT', best.plain as Row, ''), row('refresh_token (rotation)', best.refresh as Row, `${(med * 100).toFixed(1)}%`)]
    } finally {
      await server.stop()
    }
  } finally {
    data.remove()
    if (kind === 'postgres') {
      const admin = new pg.Client({ connectionString: POSTGRES_URL })
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)
      await admin.end()
    }
  }
}

export async function main(args: string[]): Promise<void> {
  const duration = option(args, 'duration', 4)
  const connections = option(args, 'connections', 50)
  const rounds = option(args, 'rounds', 6)
  const which = args[args.indexOf('--database') + 1]
  const kinds: ('sqlite' | 'postgres')[] = args.includes('--database') && which !== 'both' ? [which === 'postgres' ? 'postgres' : 'sqlite'] : ['sqlite', 'postgres']
  // Once: it pins this process (autocannon's side) to its CPU and says where the servers go.
  const cpus = separateCpus()
  const rows: Record<string, string | number>[] = []
  for (const kind of kinds) rows.push(...(await benchDatabase(kind, { duration, connections, rounds, cpus })))
  process.stdout.write(`\nrefresh_token rotation beside client_credentials JWT on the same server and database, autocannon -c ${connections}, ${rounds} rounds of ${duration}s each, ${placementNote(cpus)}\n\n`)
  printTable(rows)
  process.stdout.write(`\ntargets: refresh >= 50% of client_credentials JWT on PostgreSQL, >= 60% on SQLite (median of rounds)\n${outputNote()}\n`)
}
