/**
 * `npm run bench` (or `npm run bench -- tokens [--duration S] [--connections N] [--rounds R]`):
 * client_credentials issuance of Gatehouse (JWT and opaque) beside the ideal endpoint, each a
 * separate server process on this machine, loaded in turn by autocannon in the same run.
 * Rounds alternate the three so machine noise hits them alike; the best round of each counts.
 */
import { join } from 'node:path'
import { CLI, ROOT, freePort, measure, option, printTable, run, startChild, tempDir, type Figures } from './harness.js'

export async function main(args: string[]): Promise<void> {
  const duration = option(args, 'duration', 10)
  const connections = option(args, 'connections', 50)
  const rounds = option(args, 'rounds', 2)
  const data = tempDir()
  const env = {
    GATEHOUSE_DATABASE_URL: `sqlite:${join(data.path, 'gatehouse.db')}`,
    GATEHOUSE_DATA_DIR: data.path,
    GATEHOUSE_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn',
    // The load comes from one address and one client: limits stay on (their cost is measured), sized above it.
    GATEHOUSE_RATE_LIMIT_IP: process.env.GATEHOUSE_RATE_LIMIT_IP ?? '100000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: process.env.GATEHOUSE_RATE_LIMIT_CLIENT ?? '100000000/1m',
  }
  const create = async (format: string): Promise<{ client_id: string; client_secret: string }> =>
    JSON.parse(await run([CLI, 'clients', 'create', '--name', `bench ${format}`, '--scope', 'api', '--token-format', format, '--json'], env)) as {
      client_id: string
      client_secret: string
    }
  const jwt = await create('jwt')
  const opaque = await create('opaque')
  const basic = (c: { client_id: string; client_secret: string }): string =>
    'Basic ' + Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')

  const [ceilingPort, gatehousePort] = [await freePort(), await freePort()]
  const ceiling = await startChild(['--import', 'tsx', join(ROOT, 'bench', 'servers', 'ideal-token-endpoint.ts'), String(ceilingPort)], {}, /listening/)
  const gatehouse = await startChild([CLI, 'serve', '--port', String(gatehousePort)], env, `http://127.0.0.1:${gatehousePort}/healthz`).catch(async (error: unknown) => {
    await ceiling.stop()
    throw error
  })
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = 'grant_type=client_credentials&scope=api'
  const scenarios = [
    { name: 'ideal endpoint (parse form + 1 ES256 JWT)', load: { url: `http://127.0.0.1:${ceilingPort}/oauth/token`, headers: form } },
    { name: 'Gatehouse client_credentials, JWT', load: { url: `http://127.0.0.1:${gatehousePort}/oauth/token`, headers: { ...form, authorization: basic(jwt) } } },
    { name: 'Gatehouse client_credentials, opaque', load: { url: `http://127.0.0.1:${gatehousePort}/oauth/token`, headers: { ...form, authorization: basic(opaque) } } },
  ]
  const best = new Map<string, Figures>()
  try {
    process.stderr.write(`warming up…\n`)
    for (const scenario of scenarios) await measure({ ...scenario.load, body, connections, duration: 2 })
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of scenarios) {
        process.stderr.write(`round ${round}/${rounds}: ${scenario.name}…\n`)
        const figures = await measure({ ...scenario.load, body, connections, duration })
        const previous = best.get(scenario.name)
        if (!previous || figures.requestsPerSecond > previous.requestsPerSecond) best.set(scenario.name, figures)
      }
    }
  } finally {
    await gatehouse.stop()
    await ceiling.stop()
    data.remove()
  }
  const ceilingRate = best.get(scenarios[0]?.name ?? '')?.requestsPerSecond ?? 1
  process.stdout.write(`\nclient_credentials issuance, autocannon -c ${connections} -d ${duration}s, best of ${rounds} rounds, log level ${env.GATEHOUSE_LOG_LEVEL}\n\n`)
  printTable(
    scenarios.map(({ name }) => {
      const f = best.get(name) as Figures
      return {
        scenario: name,
        'req/s': Math.round(f.requestsPerSecond),
        'p50 ms': f.p50,
        'p99 ms': f.p99,
        'of ceiling': `${Math.round((f.requestsPerSecond / ceilingRate) * 100)}%`,
        'non-2xx': f.non2xx,
        errors: f.errors,
      }
    }),
  )
  process.stdout.write(`\ntarget: Gatehouse JWT issuance >= 70% of the ideal endpoint\n`)
}
