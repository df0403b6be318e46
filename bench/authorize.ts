/**
 * `npm run bench -- authorize [--duration S] [--connections N] [--rounds R]`: authorization-code
 * round trips per second — `GET /oauth/authorize` with a live sign-in session (consent skipped:
 * a first-party client) → 303 with a code → `POST /oauth/token` with the PKCE verifier — beside
 * client_credentials issuance on the same server, in alternating rounds of the same run.
 *
 * A round trip writes a code, then a grant and its refresh token, and consumes the code: three
 * writes against client_credentials' none. The server runs on its own CPU when the machine
 * allows (harness.ts), at log level info (a deployment's default) with its output drained by
 * this process; this process drives the round trips over keep-alive connections.
 */
import { createHash, randomBytes } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { CLI, serveArgs, freePort, measure, option, outputNote, printTable, run, separateCpus, startChild, tempDir } from './harness.js'

const PASSWORD = 'correct horse battery staple'
const REDIRECT = 'https://app.example.com/callback'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function send(url: string, options: { method?: string; body?: string; headers?: Record<string, string>; agent: Agent }): Promise<Answer> {
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

const cookieOf = (answer: Answer, name: string): string | undefined => {
  const lines = answer.headers['set-cookie'] ?? []
  for (const line of Array.isArray(lines) ? lines : [lines]) if (line.startsWith(`${name}=`)) return (line.split(';')[0] ?? '').slice(name.length + 1)
  return undefined
}
const inputValue = (page: string, name: string): string =>
  (new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(page)?.[1] ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")

function createUser(env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'users', 'create', '--username', 'person@example.com', '--password-stdin'], { env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'] })
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`users create exited ${code}`))))
    child.stdin.end(PASSWORD)
  })
}

/** The sign-in session's cookie: one password sign-in, as the person would do once. */
async function signIn(base: string, clientId: string, agent: Agent): Promise<string> {
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', scope: 'openid' })
  const page = await send(`${base}/oauth/authorize?${query}`, { agent })
  const form = cookieOf(page, 'gatehouse_signin')
  const body = new URLSearchParams({ _csrf: inputValue(page.body, '_csrf'), authorization: inputValue(page.body, 'authorization'), username: 'person@example.com', password: PASSWORD }).toString()
  const answer = await send(`${base}/signin`, { method: 'POST', body, agent, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `gatehouse_signin=${form ?? ''}` } })
  const session = cookieOf(answer, 'gatehouse_session')
  if (answer.status !== 303 || session === undefined) throw new Error(`sign-in answered ${answer.status}: ${answer.body.slice(0, 200)}`)
  return session
}

/** Round trips for `seconds` over `connections` concurrent loops; returns the rate and latency percentiles. */
async function roundTrips(base: string, client: { id: string; basic: string }, session: string, connections: number, seconds: number): Promise<{ rate: number; p50: number; p99: number; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections * 2 })
  const latencies: number[] = []
  let failures = 0
  const until = performance.now() + seconds * 1000
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now()
      const verifier = randomBytes(32).toString('base64url')
      const challenge = createHash('sha256').update(verifier).digest('base64url')
      const query = new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid', state: 's' })
      const authorized = await send(`${base}/oauth/authorize?${query}`, { agent, headers: { cookie: `gatehouse_session=${session}` } })
      const code = authorized.status === 303 ? new URL(String(authorized.headers.location)).searchParams.get('code') : null
      if (code === null) {
        failures++
        continue
      }
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }).toString()
      const token = await send(`${base}/oauth/token`, { method: 'POST', body, agent, headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' } })
      if (token.status !== 200) failures++
      else latencies.push(performance.now() - started)
    }
  }
  await Promise.all(Array.from({ length: connections }, loop))
  agent.destroy()
  const sorted = latencies.sort((a, b) => a - b)
  const at = (p: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN) * 10) / 10
  return { rate: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), failures }
}

export async function main(args: string[]): Promise<void> {
  const duration = option(args, 'duration', 5)
  const connections = option(args, 'connections', 16)
  const rounds = option(args, 'rounds', 3)
  const cpus = separateCpus()
  const data = tempDir()
  const env = {
    GATEHOUSE_DATABASE_URL: process.env.GATEHOUSE_DATABASE_URL ?? `sqlite:${join(data.path, 'gatehouse.db')}`,
    GATEHOUSE_DATA_DIR: data.path,
    GATEHOUSE_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'info',
    GATEHOUSE_RATE_LIMIT_IP: '100000000/1m',
    GATEHOUSE_RATE_LIMIT_CLIENT: '100000000/1m',
  }
  const created = JSON.parse(
    await run([CLI, 'clients', 'create', '--name', 'bench web app', '--grant', 'authorization_code', '--grant', 'client_credentials', '--redirect-uri', REDIRECT, '--skip-consent', '--scope', 'openid api', '--json'], env),
  ) as { client_id: string; client_secret: string }
  await createUser(env)
  const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(created.client_id)}:${encodeURIComponent(created.client_secret)}`).toString('base64')
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = await startChild(serveArgs('--port', String(port)), env, `${base}/healthz`, cpus?.server)
  const rows: Record<string, string | number>[] = []
  try {
    const session = await signIn(base, created.client_id, new Agent({ keepAlive: true }))
    process.stderr.write('warming up…\n')
    await roundTrips(base, { id: created.client_id, basic }, session, connections, 2)
    for (let round = 1; round <= rounds; round++) {
      const cc = await measure({ url: `${base}/oauth/token`, body: 'grant_type=client_credentials&scope=api', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, connections, duration })
      const code = await roundTrips(base, { id: created.client_id, basic }, session, connections, duration)
      rows.push({ round, 'client_credentials req/s': Math.round(cc.requestsPerSecond), 'cc p99 ms': cc.p99, 'code round trips/s': code.rate, 'round trip p50 ms': code.p50, 'round trip p99 ms': code.p99, 'failures': code.failures + cc.non2xx + cc.errors, 'ratio': (code.rate / cc.requestsPerSecond).toFixed(3) })
    }
  } finally {
    await server.stop()
    data.remove()
  }
  process.stdout.write(`authorization code round trips (authorize with a session → token with PKCE; 2 requests each) beside client_credentials, ${connections} connections, ${duration} s per measure, ${env.GATEHOUSE_DATABASE_URL.split(':')[0]}, log level ${env.GATEHOUSE_LOG_LEVEL}, server ${cpus ? 'on CPU 0, load on CPU 1' : 'sharing CPUs'}\n`)
  printTable(rows)
  process.stdout.write(`${outputNote()}\n`)
}
