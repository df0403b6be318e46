import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../helpers/processes.js'

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

describe('gatehouse CLI: version, exit codes, and JSON errors', () => {
  const database = (): string => `sqlite:${join(mkdtempSync(join(tmpdir(), 'gatehouse-cli-')), 'db.sqlite')}`

  it('prints its version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag])
      assert.deepEqual([result.code, result.stdout.trim()], [0, VERSION])
    }
  })

  it('exits 2 on a usage error and 2 on a refused setting; with --json the error is one JSON object on stderr and stdout stays empty', async () => {
    const usage = await runCli(['clients', 'create', '--json'])
    assert.equal(usage.code, 2)
    assert.equal(usage.stdout, '')
    assert.deepEqual(JSON.parse(usage.stderr.trim().split('\n').at(-1) ?? ''), { error: { message: "required option '--name <name>' not specified", exit_code: 2 } })
    const text = await runCli(['clients', 'create'])
    assert.equal(text.code, 2)
    // Without --json: commander's own words, then the command's help.
    assert.match(text.stderr, /^error: required option '--name <name>' not specified$/m)
    assert.match(text.stderr, /Usage: gatehouse clients create/)
    const refused = await runCli(['clients', 'create', '--name', 'x', '--grant', 'nope', '--json', '--database', database()], { env: { GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-cli-data-')) } })
    assert.equal(refused.code, 2)
    assert.match((JSON.parse(refused.stderr.trim().split('\n').at(-1) ?? '') as { error: { message: string } }).error.message, /unknown grant type "nope"/)
  })

  it('exits 1 on anything else (an unreachable database), as JSON under --json', async () => {
    const result = await runCli(['clients', 'list', '--json', '--database', 'postgres://nobody@127.0.0.1:1/none'])
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    const error = JSON.parse(result.stderr.trim().split('\n').at(-1) ?? '') as { error: { message: string; exit_code: number } }
    assert.equal(error.error.exit_code, 1)
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
  })
})
