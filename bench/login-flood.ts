/**
 * `npm run bench -- login-flood [--flood N] [--samples N]`: a person's password grant while a
 * burst of N wrong console sign-ins (default 400, posted at once, each with its own sign-in
 * form and a username of its own, so lockout and the per-username slowdown never step in and
 * every attempt costs a password check) comes from another address, as in the review's finding. Prints the grant's latency quiet (the baseline, same run) and
 * under the flood, with the password-check queue as shipped and with it opened wide (what the
 * server did before the queue). Target (issue 12): under the flood, at most 3x quiet.
 *
 * The flood comes from 127.0.0.1, the person from 127.0.0.2 (both loopback). The per-address
 * rate limit is off, so every flood request reaches the password check: the case of an attacker
 * with more addresses than the limit counts. The server runs at log level warn, on CPU 0 when
 * the machine allows, its output drained by this process.
 */
import { fork, spawn } from 'node:child_process'
import { Agent, request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { CLI, serveArgs, ROOT, freePort, run, startChild, tempDir, option, outputNote, printTable } from './harness.js'

const PASSWORD = 'correct horse battery staple'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function send(url: string, options: { method?: string; body?: string; headers?: Record<string, string>; agent?: Agent }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.once('error', reject)
    req.end(options.body)
  })
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

interface Setup {
  url: string
  stop(): Promise<void>
  clientId: string
  clientSecret: string
}

/** `gatehouse users create` reads the password from standard input. */
function createUser(username: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'users', 'create', '--username', username, '--password-stdin'], { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`users create exited ${code}: ${stderr}`))))
    child.stdin.end(PASSWORD)
  })
}

async function startServer(env: Record<string, string>, cpu: string | undefined): Promise<Setup> {
  const dir = tempDir()
  const port = await freePort()
  const base = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir.path, 'gatehouse.db')}`, GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_SECRET: 'bench-secret-0123456789abcdefghij', GATEHOUSE_LOG_LEVEL: 'warn', ...env }
  const created = JSON.parse(await run([CLI, 'clients', 'create', '--name', 'flood bench', '--grant', 'password', '--scope', 'api', '--json'], base)) as {
    client_id: string
    client_secret: string
  }
  for (const username of ['person@example.com', 'target@example.com']) await createUser(username, base)
  const server = await startChild(serveArgs('--port', String(port)), { ...base, GATEHOUSE_RATE_LIMIT_IP: 'off' }, `http://127.0.0.1:${port}/healthz`, cpu)
  return {
    url: `http://127.0.0.1:${port}`,
    clientId: created.client_id,
    clientSecret: created.client_secret,
    async stop() {
      await server.stop()
      dir.remove()
    },
  }
}

async function personGrant(setup: Setup, agent: Agent): Promise<number> {
  const body = new URLSearchParams({ grant_type: 'password', username: 'person@example.com', password: PASSWORD }).toString()
  const auth = Buffer.from(`${setup.clientId}:${setup.clientSecret}`).toString('base64')
  const started = performance.now()
  const answer = await send(`${setup.url}/oauth/token`, { method: 'POST', body, agent, headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' } })
  if (answer.status !== 200) throw new Error(`the person's grant answered ${answer.status}: ${answer.body}`)
  return performance.now() - started
}

async function quietSamples(setup: Setup, agent: Agent, count: number): Promise<number[]> {
  const latencies: number[] = []
  for (let i = 0; i < count; i++) latencies.push(await personGrant(setup, agent))
  return latencies
}

/**
 * `count` bursts of `size` wrong sign-ins posted at once (each with its own form, fetched before
 * the burst and not timed) by a separate process (bench/servers/login-flood-client.ts), so the
 * flood's own work does not delay this process reading the person's answer; the person's grant
 * starts while each burst is in flight.
 */
async function floodedSamples(setup: Setup, person: Agent, count: number, size: number): Promise<{ latencies: number[]; statuses: Record<number, number> }> {
  const flooder = fork(join(ROOT, 'bench', 'servers', 'login-flood-client.ts'), [setup.url, String(size)], { execArgv: ['--import', 'tsx'] })
  const next = (): Promise<FloodMessage> => new Promise((resolve) => flooder.once('message', (message) => resolve(message as FloodMessage)))
  const latencies: number[] = []
  const statuses: Record<number, number> = {}
  try {
    for (let i = 0; i < count; i++) {
      const ready = next()
      flooder.send({ do: 'prepare' })
      await ready
      const done = next()
      flooder.send({ do: 'burst' })
      await new Promise((resolve) => setTimeout(resolve, 50))
      latencies.push(await personGrant(setup, person))
      const answered = await done
      for (const [status, n] of Object.entries(answered.statuses ?? {})) statuses[Number(status)] = (statuses[Number(status)] ?? 0) + n
    }
  } finally {
    flooder.kill()
  }
  return { latencies, statuses }
}

interface FloodMessage {
  statuses?: Record<string, number>
}

export async function main(args: string[]): Promise<void> {
  const inFlight = option(args, 'flood', 400)
  const count = option(args, 'samples', 20)
  // Not pinned: argon2 runs on libuv's thread pool, which a deployment spreads over every core.
  const cpus: { server: string } | undefined = undefined
  const person = new Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.2' })
  const rows: Record<string, string | number>[] = []
  const variants: [string, Record<string, string>][] = [
    ['password-check queue (default)', {}],
    ['queue opened wide (as before)', { GATEHOUSE_PASSWORD_CHECKS: '64', GATEHOUSE_PASSWORD_CHECKS_PER_SOURCE: '100000', GATEHOUSE_PASSWORD_CHECKS_QUEUE: '100000' }],
  ]
  for (const [name, env] of variants) {
    const setup = await startServer(env, cpus?.server)
    try {
      await quietSamples(setup, person, 5) // warm up
      const quiet = await quietSamples(setup, person, count)
      const { latencies: loaded, statuses } = await floodedSamples(setup, person, count, inFlight)
      const quietP50 = percentile(quiet, 50)
      rows.push({
        server: name,
        'quiet p50 ms': quietP50.toFixed(1),
        'quiet p95 ms': percentile(quiet, 95).toFixed(1),
        'flood p50 ms': percentile(loaded, 50).toFixed(1),
        'flood p95 ms': percentile(loaded, 95).toFixed(1),
        'p50 vs quiet': `${(percentile(loaded, 50) / quietP50).toFixed(2)}x`,
        'flood answers': Object.entries(statuses).map(([status, n]) => `${status}:${n}`).join(' '),
      })
    } finally {
      await setup.stop()
    }
  }
  person.destroy()
  process.stdout.write(`login flood: bursts of ${inFlight} wrong console sign-ins from 127.0.0.1; a person's password grant from 127.0.0.2 during each; ${count} samples each\n`)
  printTable(rows)
  process.stdout.write(`${outputNote()}\n`)
  process.stdout.write('target: flood p50 at most 3x quiet p50 with the default queue\n')
}
