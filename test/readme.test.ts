import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { createPostgresTestDatabase, type TestDatabase } from './helpers/database.js'
import { freePort } from './helpers/server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const BUILT_CLI = join(root, 'dist/cli/main.js')
/** Where the README's commands point; the test's server listens on a free port instead. */
const README_ORIGIN = '127.0.0.1:8787'
const SKIP_MARKER = /^<!-- not run in test: .+ -->$/

/** One ```sh / ```bash block of the README, and the ```json answer shown right after it, if any. */
export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number
  code: string
  skipped: boolean
  answer: string | undefined
}

/** The shell blocks of a Markdown text, in order (fences may be indented, as inside a list). */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n')
  const blocks: ShellBlock[] = []
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[index] ?? '')
    if (!open) continue
    const [, indent = '', language] = open
    const end = lines.findIndex((line, at) => at > index && line.trim() === '```')
    if (end === -1) throw new Error(`README.md:${index + 1}: a code fence is never closed`)
    const body = lines.slice(index + 1, end).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    if (language === 'sh' || language === 'bash') {
      let previous = index - 1
      while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous--
      const next = lines.findIndex((line, at) => at > end && line.trim() !== '')
      const answer = next !== -1 && (lines[next] ?? '').trim() === '```json' ? jsonBlockAt(lines, next) : undefined
      blocks.push({ line: index + 1, code: body.join('\n'), skipped: SKIP_MARKER.test((lines[previous] ?? '').trim()), answer })
    }
    index = end
  }
  return blocks
}

function jsonBlockAt(lines: string[], open: number): string {
  const end = lines.findIndex((line, at) => at > open && line.trim() === '```')
  return lines.slice(open + 1, end).join('\n')
}

/**
 * Whether `actual` has the shape the README shows. The README's answers are JSON with `…` for
 * what differs on every run: a string with `…` stands for any string, a bare `…` member for any
 * further members; numbers are compared by type (lifetimes and times vary); everything else —
 * the other strings, booleans, arrays, the set of members — must be exactly as shown.
 */
export function shapeMismatch(shown: string, actual: unknown, path = '$'): string | undefined {
  const open = /,\s*…\s*(?=[,}])/.test(shown)
  const sample: unknown = JSON.parse(shown.replace(/,\s*…\s*(?=[,}])/g, ''))
  return compare(sample, actual, path, open)
}

function compare(sample: unknown, actual: unknown, path: string, open = false): string | undefined {
  if (typeof sample === 'string') {
    if (typeof actual !== 'string') return `${path}: a string was shown, the answer has ${JSON.stringify(actual)}`
    return sample.includes('…') || sample === actual ? undefined : `${path}: ${JSON.stringify(sample)} was shown, the answer has ${JSON.stringify(actual)}`
  }
  if (typeof sample === 'number') return typeof actual === 'number' ? undefined : `${path}: a number was shown, the answer has ${JSON.stringify(actual)}`
  if (Array.isArray(sample)) {
    if (!Array.isArray(actual) || actual.length !== sample.length) return `${path}: ${JSON.stringify(sample)} was shown, the answer has ${JSON.stringify(actual)}`
    for (const [at, item] of sample.entries()) {
      const mismatch = compare(item, actual[at], `${path}[${at}]`)
      if (mismatch) return mismatch
    }
    return undefined
  }
  if (typeof sample === 'object' && sample !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return `${path}: an object was shown, the answer has ${JSON.stringify(actual)}`
    const shownKeys = Object.keys(sample)
    const missing = shownKeys.filter((key) => !(key in actual))
    const extra = open ? [] : Object.keys(actual).filter((key) => !shownKeys.includes(key))
    if (missing.length || extra.length) return `${path}: members shown but missing: [${missing.join(', ')}]; present but not shown: [${extra.join(', ')}]`
    for (const key of shownKeys) {
      const mismatch = compare((sample as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${path}.${key}`)
      if (mismatch) return mismatch
    }
    return undefined
  }
  return sample === actual ? undefined : `${path}: ${JSON.stringify(sample)} was shown, the answer has ${JSON.stringify(actual)}`
}

/** The last line of a block's output that is a JSON object: the answer of its last command. */
function lastJsonObject(output: string): unknown {
  for (const line of output.split('\n').reverse()) {
    try {
      const value: unknown = JSON.parse(line)
      if (typeof value === 'object' && value !== null) return value
    } catch {
      // not JSON: a header line, a log line, a status
    }
  }
  return undefined
}

describe('the README, run: its shell blocks in order, in one bash, against a live server', { skip: existsSync(BUILT_CLI) ? false : 'run npm run build first (the README runs node dist/cli/main.js)' }, () => {
  let work: string
  let server: ChildProcess | undefined
  let serverOutput = ''
  let port: number
  /** With TEST_DATABASE_URL, a fresh PostgreSQL database in GATEHOUSE_DATABASE_URL; else the README's SQLite default. */
  let postgres: TestDatabase | undefined
  const blocks = shellBlocks('')

  before(async () => {
    blocks.push(...shellBlocks(await readFile(join(root, 'README.md'), 'utf8')))
    // A folder of its own, as a checkout looks to the commands (dist/, node_modules/): the files
    // the README's blocks write (./data, keys, scripts) land there, not in the repository.
    work = await mkdtemp(join(tmpdir(), 'gatehouse-readme-'))
    for (const entry of ['dist', 'node_modules', 'package.json', 'web']) await symlink(join(root, entry), join(work, entry))
    // `gatehouse …` as the README says "when installed": the package's bin.
    await mkdir(join(work, '.bin'))
    await writeFile(join(work, '.bin', 'gatehouse'), `#!/bin/sh\nexec "${process.execPath}" "${BUILT_CLI}" "$@"\n`)
    await chmod(join(work, '.bin', 'gatehouse'), 0o755)
    port = await freePort()
    if (process.env.TEST_DATABASE_URL) postgres = await createPostgresTestDatabase(process.env.TEST_DATABASE_URL)
    // What `npm start` runs after building (its script, V8 flags and all), on a free port
    // (GATEHOUSE_PORT, as the README's Configuration table documents), with the embedded SQLite
    // database under ./data.
    const [node, ...startArgs] = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ')
    assert.equal(node, 'node')
    server = spawn(process.execPath, startArgs, { cwd: work, env: readmeEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    server.stdout?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString('utf8')))
    server.stderr?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString('utf8')))
    await waitUntilReady(`http://127.0.0.1:${port}/healthz`)
  })
  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve))
      server.kill('SIGTERM')
      await exited
    }
    if (work) await rm(work, { recursive: true, force: true })
    await postgres?.drop()
  })

  /** The environment of the server and of the shell: a user's, plus the port (and the database, on PostgreSQL). */
  function readmeEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: `${join(work, '.bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME, GATEHOUSE_PORT: String(port), GATEHOUSE_LOG_LEVEL: 'warn' }
    if (postgres) env.GATEHOUSE_DATABASE_URL = postgres.url
    return env
  }

  async function waitUntilReady(url: string): Promise<void> {
    for (;;) {
      if (server?.exitCode !== null) throw new Error(`the server exited (${server?.exitCode}):\n${serverOutput}`)
      const ok = await fetch(url).then((answer) => answer.ok, () => false)
      if (ok) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  it('marks only blocks that cannot run here: installing, the whole suite, long-running servers, PostgreSQL', () => {
    const skipped = blocks.filter((block) => block.skipped).map((block) => block.code.split('\n')[0])
    assert.deepEqual(skipped, [
      'npm install && npm start',
      'npm install gatehouse-client   # for the callers of your APIs: no dependency at all',
      'createdb -h 127.0.0.1 -U postgres gatehouse    # once',
      'npm install',
    ])
  })

  it('runs every other block with set -euo pipefail, each exiting 0, each shown answer of the shape it shows', async () => {
    const runnable = blocks.filter((block) => !block.skipped)
    assert.ok(runnable.length >= 15, `only ${runnable.length} runnable blocks found`)
    // An HTTP error fails its block too: the README shows only successful calls, and curl alone
    // exits 0 on a 401. (The one change the test makes to the commands, besides the port.)
    const script = ['set -euo pipefail', 'curl() { command curl --fail-with-body "$@"; }']
    for (const [at, block] of runnable.entries()) {
      script.push(`printf '\\n@@readme-block ${at} start\\n'`, block.code.replaceAll(README_ORIGIN, `127.0.0.1:${port}`), `printf '\\n@@readme-block ${at} end\\n'`)
    }
    const shell = spawn('bash', ['-c', script.join('\n')], { cwd: work, env: readmeEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const code = await new Promise<number | null>((resolve) => shell.once('close', resolve))

    const outputs = new Map<number, string>()
    for (const [, at = '', output = ''] of stdout.matchAll(/@@readme-block (\d+) start\n([\s\S]*?)\n@@readme-block \1 end\n/g)) outputs.set(Number(at), output)
    const failed = runnable.findIndex((_, at) => !outputs.has(at))
    if (failed !== -1) {
      const block = runnable[failed]!
      assert.fail(`README.md:${block.line}: the block exited ${code} (set -euo pipefail)\n${block.code}\n--- stdout\n${stdout.split(`@@readme-block ${failed} start\n`)[1] ?? ''}\n--- stderr\n${stderr}`)
    }
    assert.equal(code, 0, stderr)

    const mismatches: string[] = []
    for (const [at, block] of runnable.entries()) {
      if (block.answer === undefined) continue
      const answer = lastJsonObject(outputs.get(at) ?? '')
      const mismatch = shapeMismatch(block.answer.replaceAll(README_ORIGIN, `127.0.0.1:${port}`), answer)
      if (mismatch) mismatches.push(`README.md:${block.line}: ${mismatch}`)
    }
    assert.deepEqual(mismatches, [])
  })
})

describe('the README runner itself', () => {
  it('finds sh and bash blocks, indented ones too, the skip marker and the answer after a block', () => {
    const markdown = [
      '<!-- not run in test: installs -->',
      '```sh',
      'npm install',
      '```',
      '',
      '- a list item:',
      '',
      '  ```bash',
      '  curl -s http://x/y',
      '  ```',
      '',
      '```json',
      '{"a":1}',
      '```',
      '```ts',
      'const no = 1',
      '```',
    ].join('\n')
    assert.deepEqual(shellBlocks(markdown), [
      { line: 2, code: 'npm install', skipped: true, answer: undefined },
      { line: 8, code: 'curl -s http://x/y', skipped: false, answer: '{"a":1}' },
    ])
  })

  it('compares an answer with the shape shown: wildcards, open members, types of numbers', () => {
    const shown = '{"client_id":"3f0c…","name":"demo","scopes":["api","read"], … ,"expires_in":3600}'
    assert.equal(shapeMismatch(shown, { client_id: 'abc', name: 'demo', scopes: ['api', 'read'], expires_in: 60, more: true }), undefined)
    assert.equal(shapeMismatch(shown, { client_id: 'abc', name: 'other', scopes: ['api', 'read'], expires_in: 60 }), '$.name: "demo" was shown, the answer has "other"')
    assert.equal(shapeMismatch(shown, { name: 'demo', scopes: ['api', 'read'], expires_in: 60 }), '$: members shown but missing: [client_id]; present but not shown: []')
    assert.equal(shapeMismatch('{"a":"x…"}', { a: 'y', b: 1 }), '$: members shown but missing: []; present but not shown: [b]')
    assert.equal(shapeMismatch('{"a":1}', { a: '1' }), '$.a: a number was shown, the answer has "1"')
    assert.equal(shapeMismatch('{"data":{"t":"Bearer"}}', { error: { code: 1 } }), '$: members shown but missing: [data]; present but not shown: [error]')
    assert.equal(shapeMismatch('{"a":true}', undefined), '$: an object was shown, the answer has undefined')
  })
})
