/** Shared pieces of the benchmark scripts: child servers, autocannon runs, tables. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'

export const ROOT = join(import.meta.dirname, '..')
export const CLI = join(ROOT, 'dist', 'cli', 'main.js')

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * On a machine with two or more CPUs and `taskset`, servers under test run on CPU 0 and the
 * load generator (this process) on CPU 1, so they never take turns on one core: the figures
 * then measure the server, not the scheduler, and rounds vary far less. Undefined when the
 * machine cannot separate them (everything then shares the CPUs as the OS decides).
 */
export function separateCpus(): { server: string; load: string } | undefined {
  if (process.platform !== 'linux' || availableParallelism() < 2) return undefined
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  return pinned.status === 0 ? { server: '0', load: '1' } : undefined
}

export interface Child {
  process: ChildProcess
  stop(): Promise<void>
}

/**
 * Starts a process and resolves once `ready` answers 2xx (a URL polled) or its output matches
 * (a pattern). Rejects if it exits first.
 */
export function startChild(args: string[], env: Record<string, string>, ready: RegExp | string, cpu?: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const [command, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', cpu, process.execPath, ...args]]
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let done = false
    const onExit = (code: number | null): void => {
      done = true
      reject(new Error(`process exited with ${code} before it was ready:\n${output}`))
    }
    const succeed = (): void => {
      if (done) return
      done = true
      child.off('exit', onExit)
      resolve({
        process: child,
        stop: () =>
          new Promise((finish) => {
            if (child.exitCode !== null) return finish()
            child.once('exit', () => finish())
            child.kill('SIGTERM')
          }),
      })
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      if (output.length < 65536) output += chunk.toString()
      if (ready instanceof RegExp && ready.test(output)) succeed()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      if (output.length < 65536) output += chunk.toString()
    })
    child.once('exit', onExit)
    if (typeof ready === 'string') {
      const poll = (): void => {
        if (done) return
        fetch(ready)
          .then((response) => (response.ok ? succeed() : setTimeout(poll, 100)))
          .catch(() => setTimeout(poll, 100))
      }
      poll()
    }
  })
}

export function run(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))))
  })
}

export interface Load {
  url: string
  body: string
  headers: Record<string, string>
  connections: number
  duration: number
  /**
   * A body for each request, when they must differ (a client assertion is single-use): called
   * once per request across all connections (autocannon's setupRequest). Make the bodies
   * beforehand so producing one is a lookup, not work that loads the generator mid-run.
   */
  nextBody?: () => string
  /** Rewrites each request before it is sent (autocannon's `setupRequest`), e.g. to give it the next pre-signed DPoP proof. */
  setupRequest?: (request: { headers?: Record<string, string> }) => { headers?: Record<string, string> }
}

export interface Figures {
  requestsPerSecond: number
  p50: number
  p99: number
  non2xx: number
  errors: number
}

export async function measure(load: Load): Promise<Figures> {
  const result = await autocannon({
    url: load.url,
    method: 'POST',
    connections: load.connections,
    duration: load.duration,
    headers: load.headers,
    body: load.body,
    ...(load.nextBody || load.setupRequest
      ? {
          requests: [
            {
              method: 'POST',
              setupRequest: (request: Record<string, unknown>) => {
                const withBody = load.nextBody ? { ...request, body: load.nextBody() } : request
                return (load.setupRequest ? load.setupRequest(withBody as { headers?: Record<string, string> }) : withBody) as never
              },
            },
          ],
        }
      : {}),
  })
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export function printTable(rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {})
  const cells = rows.map((row) => columns.map((c) => String(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] as string).length)))
  const line = (values: string[]): string => values.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ')
  process.stdout.write([line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n')
}

export function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`)
  const value = index >= 0 ? Number(args[index + 1]) : fallback
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}
