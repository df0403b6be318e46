/**
 * `npm run bench -- peers [--duration S] [--rounds R] [--connections N]`: Gatehouse's
 * client_credentials issuance beside a peer and two floors, in paired rounds (harness.ts):
 *
 * - the ideal endpoint (bench/servers/ideal-token-endpoint.ts: parse the form, sign one ES256
 *   JWT) — the baseline every row is divided by;
 * - bare Fastify (bench/servers/bare-fastify.ts: parse the form, answer JSON) — the floor;
 * - node-oidc-provider 8 (bench/servers/oidc-provider.ts: its memory adapter, opaque tokens,
 *   and ES256 JWT access tokens through a resource indicator) — the peer;
 * - Gatehouse at its default settings (log level info with an access line per request,
 *   metrics on, rate limits on and sized above the load), the same at level warn, and
 *   Gatehouse opaque (one insert per token) at default settings.
 *
 * Every Gatehouse row is also divided by the peer's matching row in the same round (JWT by
 * its JWT, opaque by its opaque), and its p99 by the ideal endpoint's p99 in that round.
 */
import { join } from 'node:path'
import { CLI, serveArgs, ROOT, freePort, median, option, outputNote, pairedRatios, pairedRounds, placementNote, printTable, run, separateCpus, startChild, tempDir, type Child, type Figures, type Scenario } from './harness.js'

const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz'
const PEER_CLIENT = { id: 'bench-peer', secret: 'bench-peer-secret-0123456789' }
const form = { 'content-type': 'application/x-www-form-urlencoded' }
const basic = (id: string, secret: string): string => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')

/** A Gatehouse data directory with one JWT and one opaque client (made through the CLI, before it serves). */
async function gatehouseData(env: Record<string, string>): Promise<{ jwt: string; opaque: string }> {
  const create = async (format: string): Promise<string> => {
    const made = JSON.parse(await run([CLI, 'clients', 'create', '--name', `bench ${format}`, '--scope', 'api', '--token-format', format, '--json'], env)) as { client_id: string; client_secret: string }
    return basic(made.client_id, made.client_secret)
  }
  return { jwt: await create('jwt'), opaque: await create('opaque') }
}

export async function main(args: string[]): Promise<void> {
  const duration = option(args, 'duration', 4)
  const connections = option(args, 'connections', 50)
  const rounds = option(args, 'rounds', 6)
  const cpus = separateCpus()
  const data = tempDir()
  const gatehouseEnv = (name: string, level: string | undefined): Record<string, string> => ({
    GATEHOUSE_DATABASE_URL: `sqlite:${join(data.path, name, 'gatehouse.db')}`,
    GATEHOUSE_DATA_DIR: join(data.path, name),
    GATEHOUSE_SECRET: SECRET,
    // The defaults are the configuration's own (level info, metrics on); the load comes from one address and one client, so the limits stay on, sized above it.
    ...(level ? { GATEHOUSE_LOG_LEVEL: level } : {}),
    GATEHOUSE_RATE_LIMIT_IP: '100000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: '100000000/1m',
  })
  const defaults = gatehouseEnv('defaults', undefined)
  const quiet = gatehouseEnv('warn', 'warn')
  // The bench's own environment must not change the defaults row.
  delete process.env.GATEHOUSE_LOG_LEVEL
  delete process.env.LOG_LEVEL
  const defaultClients = await gatehouseData(defaults)
  const quietClients = await gatehouseData(quiet)

  const ports = { ideal: await freePort(), bare: await freePort(), peer: await freePort(), defaults: await freePort(), quiet: await freePort() }
  const servers: Child[] = []
  const start = async (...args: Parameters<typeof startChild>): Promise<number> => {
    const child = await startChild(...args)
    servers.push(child)
    return child.process.pid as number
  }
  try {
    const pids = {
      ideal: await start(['--import', 'tsx', join(ROOT, 'bench', 'servers', 'ideal-token-endpoint.ts'), String(ports.ideal)], {}, /listening/, cpus?.server),
      bare: await start(['--import', 'tsx', join(ROOT, 'bench', 'servers', 'bare-fastify.ts'), String(ports.bare)], {}, /listening/, cpus?.server),
      peer: await start(['--import', 'tsx', join(ROOT, 'bench', 'servers', 'oidc-provider.ts'), String(ports.peer), PEER_CLIENT.id, PEER_CLIENT.secret], {}, /listening/, cpus?.server),
      defaults: await start(serveArgs('--port', String(ports.defaults)), defaults, `http://127.0.0.1:${ports.defaults}/healthz`, cpus?.server),
      quiet: await start(serveArgs('--port', String(ports.quiet)), quiet, `http://127.0.0.1:${ports.quiet}/healthz`, cpus?.server),
    }

    const body = 'grant_type=client_credentials&scope=api'
    const peerAuth = { ...form, authorization: basic(PEER_CLIENT.id, PEER_CLIENT.secret) }
    const at = (port: number, path: string): string => `http://127.0.0.1:${port}${path}`
    const rows = {
      ideal: 'ideal endpoint (parse form + 1 ES256 JWT)',
      bare: 'bare Fastify (parse form + JSON answer)',
      peerOpaque: 'node-oidc-provider, opaque',
      peerJWT: 'node-oidc-provider, JWT ES256',
      jwt: 'Gatehouse JWT, default settings (info)',
      jwtWarn: 'Gatehouse JWT, log level warn',
      opaque: 'Gatehouse opaque, default settings (info)',
    }
    const scenarios: Scenario[] = [
      { name: rows.ideal, load: { url: at(ports.ideal, '/oauth/token'), headers: form, body, pid: pids.ideal } },
      { name: rows.bare, load: { url: at(ports.bare, '/oauth/token'), headers: form, body, pid: pids.bare } },
      { name: rows.peerOpaque, load: { url: at(ports.peer, '/token'), headers: peerAuth, body, pid: pids.peer } },
      { name: rows.peerJWT, load: { url: at(ports.peer, '/token'), headers: peerAuth, body: `${body}&resource=${encodeURIComponent('https://api.bench/')}`, pid: pids.peer } },
      { name: rows.jwt, load: { url: at(ports.defaults, '/oauth/token'), headers: { ...form, authorization: defaultClients.jwt }, body, pid: pids.defaults } },
      { name: rows.jwtWarn, load: { url: at(ports.quiet, '/oauth/token'), headers: { ...form, authorization: quietClients.jwt }, body, pid: pids.quiet } },
      { name: rows.opaque, load: { url: at(ports.defaults, '/oauth/token'), headers: { ...form, authorization: defaultClients.opaque }, body, pid: pids.defaults } },
    ]
    // Each answer is checked once before measuring: a misconfigured row would measure its error path.
    for (const { name, load } of scenarios) {
      const answer = await fetch(load.url, { method: 'POST', headers: load.headers, body: load.body })
      const json = (await answer.json()) as Record<string, unknown>
      const wantsJWT = name !== rows.bare && name !== rows.peerOpaque && name !== rows.opaque
      if (answer.status !== 200 || (name !== rows.bare && typeof json.access_token !== 'string') || (wantsJWT && !String(json.access_token).startsWith('eyJ'))) {
        throw new Error(`${name}: unexpected answer ${answer.status} ${JSON.stringify(json)}`)
      }
    }
    const results = await pairedRounds(scenarios, { rounds, duration, connections })
    const of = (name: string): Figures[] => results.get(name) ?? []
    const peerOf: Record<string, string> = { [rows.jwt]: rows.peerJWT, [rows.jwtWarn]: rows.peerJWT, [rows.opaque]: rows.peerOpaque }
    const percent = (ratio: number): string => (Number.isNaN(ratio) ? '' : `${(ratio * 100).toFixed(1)}%`)
    const times = (ratio: number): string => (Number.isNaN(ratio) ? '' : `${ratio.toFixed(2)}x`)
    process.stdout.write(`\nclient_credentials issuance beside node-oidc-provider, autocannon -c ${connections}, ${rounds} paired rounds of ${duration}s, ${placementNote(cpus)}\n`)
    process.stdout.write(`figures are medians over the rounds; ratios are medians of the per-round ratios\n\n`)
    printTable(
      scenarios.map(({ name }) => {
        const figures = of(name)
        const peer = peerOf[name]
        const gatehouse = name.startsWith('Gatehouse')
        return {
          row: name,
          'req/s': Math.round(median(figures.map((f) => f.requestsPerSecond))),
          'p50 ms': median(figures.map((f) => f.p50)),
          'p99 ms': median(figures.map((f) => f.p99)),
          'of ideal': percent(median(pairedRatios(figures, of(rows.ideal), (f) => f.requestsPerSecond))),
          'rounds (% of ideal)': pairedRatios(figures, of(rows.ideal), (f) => f.requestsPerSecond).map((r) => Math.round(r * 100)).join(' '),
          'vs peer': peer ? times(median(pairedRatios(figures, of(peer), (f) => f.requestsPerSecond))) : '',
          'p99 / ideal p99': gatehouse ? times(median(pairedRatios(figures, of(rows.ideal), (f) => f.p99))) : '',
          'CPU µs/req': Math.round(median(figures.map((f) => f.cpuMicros ?? NaN))),
          'of ideal (CPU)': percent(median(pairedRatios(of(rows.ideal), figures, (f) => f.cpuMicros ?? NaN))),
          'vs peer (CPU)': peer ? times(median(pairedRatios(of(peer), figures, (f) => f.cpuMicros ?? NaN))) : '',
          'non-2xx': figures.reduce((sum, f) => sum + f.non2xx, 0),
          errors: figures.reduce((sum, f) => sum + f.errors, 0),
        }
      }),
    )
    process.stdout.write(
      [
        '',
        'targets: Gatehouse JWT >= 90% of the ideal at default settings and at warn; >= 1.5x node-oidc-provider JWT; p99 <= 1.3x the ideal p99',
        "CPU µs/req: the server's CPU time (user + system, all threads, /proc) per answered request; 'of ideal (CPU)' = the ideal's µs/req over the row's in the same round, the rate each would reach on an equal share of a CPU",
        outputNote(),
        'node-oidc-provider and the two floors write no line per request; Gatehouse at info writes one access line per request',
        '',
      ].join('\n'),
    )
  } finally {
    for (const server of servers.reverse()) await server.stop()
    data.remove()
  }
}
