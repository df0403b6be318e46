import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort, TEST_SECRET } from './server.js'

/** The built CLI (`npm test` builds first; run `npm run build` before a single file). */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`)
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON, when it is. */
  json: unknown
}

/** Runs one `gatehouse` command to completion. */
export async function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  requireBuild()
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin.end(options.stdin ?? '')
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)))
  let json: unknown
  try {
    json = JSON.parse(stdout)
  } catch {
    json = undefined
  }
  return { code, stdout, stderr, json }
}

export interface ServerProcess {
  url: string
  port: number
  child: ChildProcess
  /** Everything it wrote on stdout and stderr. */
  output(): string
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>
}

/** Starts `gatehouse serve` as its own process and waits until it answers /healthz. */
export async function spawnServer(options: { database: string; dataDir: string; args?: string[]; env?: Record<string, string> }): Promise<ServerProcess> {
  requireBuild()
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve', '--database', options.database, '--host', '127.0.0.1', '--port', String(port), ...(options.args ?? [])], {
    env: { ...process.env, GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_DATA_DIR: options.dataDir, GATEHOUSE_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gatehouse serve exited with ${child.exitCode}:\n${output}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`gatehouse serve did not answer within 20 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes; resolves with the time it took (ms). */
export async function within(timeoutMs: number, check: () => Promise<boolean>, everyMs = 25): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (await check()) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
