/**
 * `npm run bench -- introspect [--duration S] [--rounds R] [--connections N]`: token
 * introspection (RFC 7662, `POST /oauth/introspect` with the client's Basic credentials) of a
 * Gatehouse JWT and of a Gatehouse opaque token, beside a Fastify endpoint that verifies one
 * ES256 JWT (bench/servers/ideal-introspection-endpoint.ts, the baseline: every row is divided
 * by it in the same round) and bare Fastify (parse the form, answer JSON), in paired rounds
 * (harness.ts). Gatehouse runs at its default settings (log level info, metrics and rate
 * limits on, limits sized above the load). The same token is introspected throughout: the
 * work per request does not depend on which token it is.
 */
import { join } from 'node:path'
import { CLI, serveArgs, ROOT, freePort, median, option, outputNote, pairedRatios, pairedRounds, placementNote, printTable, run, separateCpus, startChild, tempDir, type Child, type Figures, type Scenario } from './harness.js'

const form = { 'content-type': 'application/x-www-form-urlencoded' }

export async function main(args: string[]): Promise<void> {
  const duration = option(args, 'duration', 4)
  const connections = option(args, 'connections', 50)
  const rounds = option(args, 'rounds', 6)
  const cpus = separateCpus()
  const data = tempDir()
  delete process.env.GATEHOUSE_LOG_LEVEL
  delete process.env.LOG_LEVEL
  const env = {
    GATEHOUSE_DATABASE_URL: `sqlite:${join(data.path, 'gatehouse.db')}`,
    GATEHOUSE_DATA_DIR: data.path,
    GATEHOUSE_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    GATEHOUSE_RATE_LIMIT_IP: '100000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: '100000000/1m',
  }
  const create = async (format: string): Promise<string> => {
    const made = JSON.parse(await run([CLI, 'clients', 'create', '--name', `bench ${format}`, '--scope', 'api', '--token-format', format, '--json'], env)) as { client_id: string; client_secret: string }
    return 'Basic ' + Buffer.from(`${encodeURIComponent(made.client_id)}:${encodeURIComponent(made.client_secret)}`).toString('base64')
  }
  const jwtClient = await create('jwt')
  const opaqueClient = await create('opaque')
  const ports = { ideal: await freePort(), bare: await freePort(), gatehouse: await freePort() }
  const issuer = `http://127.0.0.1:${ports.gatehouse}`
  const servers: Child[] = []
  try {
    const start = async (...args: Parameters<typeof startChild>): Promise<number> => {
      const child = await startChild(...args)
      servers.push(child)
      return child.process.pid as number
    }
    const pids = {
      gatehouse: await start(serveArgs('--port', String(ports.gatehouse)), env, `${issuer}/healthz`, cpus?.server),
      ideal: await start(['--import', 'tsx', join(ROOT, 'bench', 'servers', 'ideal-introspection-endpoint.ts'), String(ports.ideal), `${issuer}/.well-known/jwks.json`], {}, /listening/, cpus?.server),
      bare: await start(['--import', 'tsx', join(ROOT, 'bench', 'servers', 'bare-fastify.ts'), String(ports.bare)], {}, /listening/, cpus?.server),
    }
    const tokenOf = async (authorization: string): Promise<string> => {
      const answer = await fetch(`${issuer}/oauth/token`, { method: 'POST', headers: { ...form, authorization }, body: 'grant_type=client_credentials&scope=api' })
      return ((await answer.json()) as { access_token: string }).access_token
    }
    const jwt = await tokenOf(jwtClient)
    const opaque = await tokenOf(opaqueClient)
    const body = (token: string): string => `token=${encodeURIComponent(token)}&token_type_hint=access_token`
    const rows = {
      ideal: 'Fastify + one ES256 verify',
      bare: 'bare Fastify (parse form + JSON answer)',
      jwt: 'Gatehouse introspection, JWT',
      opaque: 'Gatehouse introspection, opaque',
    }
    const scenarios: Scenario[] = [
      { name: rows.ideal, load: { url: `http://127.0.0.1:${ports.ideal}/oauth/introspect`, headers: form, body: body(jwt), pid: pids.ideal } },
      { name: rows.bare, load: { url: `http://127.0.0.1:${ports.bare}/oauth/introspect`, headers: form, body: body(jwt), pid: pids.bare } },
      { name: rows.jwt, load: { url: `${issuer}/oauth/introspect`, headers: { ...form, authorization: jwtClient }, body: body(jwt), pid: pids.gatehouse } },
      { name: rows.opaque, load: { url: `${issuer}/oauth/introspect`, headers: { ...form, authorization: opaqueClient }, body: body(opaque), pid: pids.gatehouse } },
    ]
    // Each answer checked once: an inactive answer would measure the wrong path.
    for (const { name, load } of scenarios) {
      const answer = await fetch(load.url, { method: 'POST', headers: load.headers, body: load.body })
      const json = (await answer.json()) as Record<string, unknown>
      if (answer.status !== 200 || (name !== rows.bare && json.active !== true)) throw new Error(`${name}: unexpected answer ${answer.status} ${JSON.stringify(json)}`)
    }
    const results = await pairedRounds(scenarios, { rounds, duration, connections })
    const of = (name: string): Figures[] => results.get(name) ?? []
    const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`
    process.stdout.write(`\nintrospection (RFC 7662), autocannon -c ${connections}, ${rounds} paired rounds of ${duration}s, ${placementNote(cpus)}, Gatehouse at default settings (log level info)\n`)
    process.stdout.write(`figures are medians over the rounds; ratios are medians of the per-round ratios\n\n`)
    printTable(
      scenarios.map(({ name }) => {
        const figures = of(name)
        const ratios = pairedRatios(figures, of(rows.ideal), (f) => f.requestsPerSecond)
        return {
          row: name,
          'req/s': Math.round(median(figures.map((f) => f.requestsPerSecond))),
          'p50 ms': median(figures.map((f) => f.p50)),
          'p99 ms': median(figures.map((f) => f.p99)),
          'of Fastify + verify': percent(median(ratios)),
          'rounds (%)': ratios.map((r) => Math.round(r * 100)).join(' '),
          'p99 / its p99': name.startsWith('Gatehouse') ? `${median(pairedRatios(figures, of(rows.ideal), (f) => f.p99)).toFixed(2)}x` : '',
          'CPU µs/req': Math.round(median(figures.map((f) => f.cpuMicros ?? NaN))),
          'of it (CPU)': percent(median(pairedRatios(of(rows.ideal), figures, (f) => f.cpuMicros ?? NaN))),
          'non-2xx': figures.reduce((sum, f) => sum + f.non2xx, 0),
          errors: figures.reduce((sum, f) => sum + f.errors, 0),
        }
      }),
    )
    process.stdout.write(
      [
        '',
        'target: Gatehouse JWT introspection >= 90% of Fastify + one ES256 verify',
        "CPU µs/req: the server's CPU time (user + system, all threads, /proc) per answered request; 'of it (CPU)' = Fastify + verify's µs/req over the row's in the same round",
        outputNote(),
        '',
      ].join('\n'),
    )
  } finally {
    for (const server of servers.reverse()) await server.stop()
    data.remove()
  }
}
