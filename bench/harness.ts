/** Shared pieces of the benchmark scripts: child servers, autocannon runs, tables. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import autocannon from 'autocannon'
import { stealNote } from './cpu-steal.js'

export const ROOT = join(import.meta.dirname, '..')
export const CLI = join(ROOT, 'dist', 'cli', 'main.js')
/**
 * The V8 flags `npm start` and the Docker image run the server with (a fixed young generation,
 * docs/operations.md "Memory"). test/ops/node-flags.test.ts keeps the three in step.
 */
export const SERVE_NODE_FLAGS = ['--min-semi-space-size=8', '--max-semi-space-size=8']

/** node's arguments for `gatehouse serve ARGS`, started as it is deployed (SERVE_NODE_FLAGS). */
export function serveArgs(...args: string[]): string[] {
  return [...SERVE_NODE_FLAGS, CLI, 'serve', ...args]
}

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
  /** The file its stdout and stderr go to. */
  output: string
  stop(): Promise<void>
}

/**
 * Where the servers' output goes: each child appends its stdout and stderr to its own file
 * here, written by the child itself (the file is its fd 1 and 2), as `serve` under systemd
 * or a container runtime writes to a journal or a log file. Nothing reads the files during a
 * measurement: this process, on the load generator's CPU, only looks at them to see a
 * readiness line or to quote a failure. (Until issue 15 the children wrote into pipes that
 * this process read and kept, which put the parsing of every access line on autocannon's CPU.)
 */
let logDirectory: string | undefined
export function serverLogDirectory(): string {
  logDirectory ??= mkdtempSync(join(tmpdir(), 'gatehouse-bench-logs-'))
  return logDirectory
}

/** The footer lines that say where the servers' output went and how much CPU the host took (cpu-steal.ts). */
export function outputNote(): string {
  return `server output: each server's stdout/stderr appended to its own file in ${serverLogDirectory()} (written by the server, read by nothing during the run)\n${stealNote()}`
}

let children = 0

/** The first 64 KiB of a child's output file (for a readiness pattern or an error message). */
function head(file: string): string {
  try {
    const fd = openSync(file, 'r')
    try {
      const buffer = Buffer.alloc(65536)
      return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString()
    } finally {
      closeSync(fd)
    }
  } catch {
    return ''
  }
}

/**
 * Starts a process and resolves once `ready` answers 2xx (a URL polled) or its output matches
 * (a pattern, polled in its output file). Rejects if it exits first.
 */
export function startChild(args: string[], env: Record<string, string>, ready: RegExp | string, cpu?: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const [command, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', cpu, process.execPath, ...args]]
    const name = basename(args.find((arg) => /\.(ts|js)$/.test(arg)) ?? 'server').replace(/\.(ts|js)$/, '')
    const output = join(serverLogDirectory(), `${++children}-${name}.log`)
    const fd = openSync(output, 'a')
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] })
    closeSync(fd)
    let done = false
    const onExit = (code: number | null): void => {
      done = true
      reject(new Error(`process exited with ${code} before it was ready (output in ${output}):\n${head(output)}`))
    }
    const succeed = (): void => {
      if (done) return
      done = true
      child.off('exit', onExit)
      resolve({
        process: child,
        output,
        stop: () =>
          new Promise((finish) => {
            if (child.exitCode !== null || child.signalCode !== null) return finish()
            child.once('exit', () => finish())
            child.kill('SIGTERM')
          }),
      })
    }
    child.once('exit', onExit)
    const poll = (): void => {
      if (done) return
      if (ready instanceof RegExp) {
        if (ready.test(head(output))) succeed()
        else setTimeout(poll, 50)
        return
      }
      fetch(ready)
        .then((response) => (response.ok ? succeed() : setTimeout(poll, 100)))
        .catch(() => setTimeout(poll, 100))
    }
    poll()
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
  /** The server's process: its CPU time during the run is read from /proc, per request answered. */
  pid?: number
  /** Rewrites each request before it is sent (autocannon's `setupRequest`), e.g. to give it the next pre-signed DPoP proof. */
  setupRequest?: (request: { headers?: Record<string, string> }) => { headers?: Record<string, string> }
}

export interface Figures {
  requestsPerSecond: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  /**
   * The server's CPU time per answered request, in µs (user + system, all its threads), when
   * its pid was given. On a machine shared with other work the rate depends on the share of
   * the CPU the scheduler gave the server; the CPU time a request costs hardly does.
   */
  cpuMicros?: number
}

/** A process's CPU time (user + system, every thread) in seconds, from /proc/PID/stat (Linux); undefined elsewhere. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}
/** USER_HZ: Linux reports CPU times in hundredths of a second on every platform it runs on. */
const CLOCK_TICKS = 100

export async function measure(load: Load): Promise<Figures> {
  const cpuBefore = load.pid === undefined ? undefined : cpuSeconds(load.pid)
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
  const cpuAfter = load.pid === undefined ? undefined : cpuSeconds(load.pid)
  const answered = result.requests.total as number
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && answered > 0 ? { cpuMicros: ((cpuAfter - cpuBefore) * 1e6) / answered } : {}),
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

export function median(values: number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export interface Scenario {
  name: string
  load: Omit<Load, 'connections' | 'duration'>
  /** Called before each of its measurements (e.g. to sign a pool of single-use proofs). */
  prepare?: (seconds: number) => Promise<void>
}

/**
 * Paired rounds (as bench/tokens.ts explains): every round measures every scenario in turn, the
 * first being the baseline, so a slow stretch of a shared machine hits a round's rows alike;
 * figures are then compared within a round and the median of those paired ratios reported.
 * Returns each scenario's figures, one per round, after one warm-up pass of 2 s each.
 */
export async function pairedRounds(scenarios: Scenario[], options: { rounds: number; duration: number; connections: number; label?: string }): Promise<Map<string, Figures[]>> {
  const results = new Map<string, Figures[]>(scenarios.map(({ name }) => [name, []]))
  process.stderr.write(`${options.label ?? ''}warming up…\n`)
  for (const scenario of scenarios) {
    await scenario.prepare?.(2)
    await measure({ ...scenario.load, connections: options.connections, duration: 2 })
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of scenarios) {
      process.stderr.write(`${options.label ?? ''}round ${round}/${options.rounds}: ${scenario.name}…\n`)
      await scenario.prepare?.(options.duration)
      results.get(scenario.name)?.push(await measure({ ...scenario.load, connections: options.connections, duration: options.duration }))
    }
  }
  return results
}

/** Per round, `row`'s figure divided by `base`'s in the same round. */
export function pairedRatios(row: Figures[], base: Figures[], figure: (f: Figures) => number): number[] {
  return row.map((f, i) => figure(f) / figure(base[i] as Figures))
}

export function placementNote(cpus: { server: string; load: string } | undefined): string {
  return cpus ? `servers on CPU ${cpus.server}, autocannon on CPU ${cpus.load}` : 'servers and autocannon share the CPUs'
}
