import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { migrations } from '../src/store/migrations/index.js'
import { createTestDatabase, type TestDatabase } from './helpers/database.js'
import { runCli, type CliResult } from './helpers/processes.js'

type Run = CliResult

function cli(database: TestDatabase, args: string[], stdin?: string, env: Record<string, string> = {}): Promise<Run> {
  return runCli(args, { env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: database.dataDir, ...env }, ...(stdin !== undefined ? { stdin } : {}) })
}

/** --json means exactly one JSON object on stdout and nothing else there. */
function json(run: Run): Record<string, unknown> {
  assert.equal(run.code, 0, run.stderr)
  const lines = run.stdout.split('\n').filter(Boolean)
  assert.equal(lines.length, 1, `stdout: ${run.stdout}`)
  return JSON.parse(lines[0] as string) as Record<string, unknown>
}

describe('gatehouse CLI', () => {
  let database: TestDatabase

  before(async () => {
    database = await createTestDatabase()
  })
  after(() => database.drop())

  it('migrate reports what it applied, then that nothing is pending', async () => {
    const fresh = await createTestDatabase()
    try {
      assert.deepEqual(json(await cli(fresh, ['migrate', '--json'])), { applied: Object.keys(migrations) })
      const again = await cli(fresh, ['migrate'])
      assert.equal(again.stdout, 'up to date: nothing to apply\n')
    } finally {
      await fresh.drop()
    }
  })

  it('creates a client and prints its secret once, then never again', async () => {
    const created = json(await cli(database, ['clients', 'create', '--name', 'Demo App', '--grant', 'client_credentials', '--grant', 'refresh_token', '--scope', 'api read', '--audience', 'https://api.example.com', '--token-format', 'opaque', '--access-token-ttl', '900', '--json']))
    assert.match(created.client_id as string, /^[0-9a-f]{24}$/)
    assert.match(created.client_secret as string, /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual({ ...created, client_id: '', client_secret: '', created_at: '', updated_at: '' }, {
      client_id: '',
      name: 'Demo App',
      grant_types: ['client_credentials', 'refresh_token'],
      scopes: ['api', 'read'],
      default_scopes: [],
      audience: 'https://api.example.com',
      token_format: 'opaque',
      signing_alg: 'ES256',
      access_token_ttl: 900,
      refresh_token_ttl: 2592000,
      refresh_token_sliding_ttl: 1296000,
      refresh_reuse_interval: 0,
      rotate_refresh_tokens: true,
      allowed_users: null,
      created_at: '',
      updated_at: '',
      client_secret: '',
    })
    const shown = json(await cli(database, ['clients', 'show', created.client_id as string, '--json']))
    assert.equal(shown.client_secret, undefined)
    assert.equal(JSON.stringify(shown).includes(created.client_secret as string), false)
    const listed = json(await cli(database, ['clients', 'list', '--json']))
    assert.equal((listed.clients as unknown[]).length, 1)

    const rotated = json(await cli(database, ['clients', 'rotate-secret', created.client_id as string, '--json']))
    assert.equal(rotated.client_id, created.client_id)
    assert.notEqual(rotated.client_secret, created.client_secret)

    const updated = json(await cli(database, ['clients', 'update', created.client_id as string, '--name', 'Renamed', '--refresh-reuse-interval', '5', '--json']))
    assert.equal(updated.name, 'Renamed')
    assert.equal(updated.refresh_reuse_interval, 5)
    assert.equal(updated.token_format, 'opaque')
    assert.equal(updated.signing_alg, 'ES256')

    assert.deepEqual(json(await cli(database, ['clients', 'delete', created.client_id as string, '--json'])), { deleted: created.client_id })
    const gone = await cli(database, ['clients', 'show', created.client_id as string, '--json'])
    assert.deepEqual({ code: gone.code, stdout: gone.stdout, stderr: gone.stderr }, { code: 1, stdout: '', stderr: `gatehouse: no client with id ${created.client_id}\n` })
  })

  it('sets a client\'s signing algorithm with --signing-alg on create and update, and refuses any other', async () => {
    const created = json(await cli(database, ['clients', 'create', '--name', 'RSA verifier', '--signing-alg', 'RS256', '--json']))
    assert.equal(created.signing_alg, 'RS256')
    const updated = json(await cli(database, ['clients', 'update', created.client_id as string, '--signing-alg', 'ES256', '--json']))
    assert.equal(updated.signing_alg, 'ES256')
    assert.equal(json(await cli(database, ['clients', 'update', created.client_id as string, '--signing-alg', 'RS256', '--json'])).signing_alg, 'RS256')
    assert.equal(json(await cli(database, ['clients', 'show', created.client_id as string, '--json'])).signing_alg, 'RS256')
    const refused = await cli(database, ['clients', 'create', '--name', 'x', '--signing-alg', 'HS256', '--json'])
    // commander's message, then the command's help.
    assert.deepEqual({ code: refused.code, stdout: refused.stdout, firstLine: refused.stderr.split('\n')[0] }, {
      code: 1,
      stdout: '',
      firstLine: "error: option '--signing-alg <alg>' argument 'HS256' is invalid. Allowed choices are ES256, RS256.",
    })
    assert.deepEqual(json(await cli(database, ['clients', 'delete', created.client_id as string, '--json'])), { deleted: created.client_id })
  })

  it('refuses bad client settings with a clear message and exit code 2', async () => {
    const run = await cli(database, ['clients', 'create', '--name', 'x', '--grant', 'implicit', '--json'])
    assert.deepEqual({ code: run.code, stdout: run.stdout }, { code: 2, stdout: '' })
    assert.equal(run.stderr, 'gatehouse: unknown grant type "implicit" (one of client_credentials, password, refresh_token, api_key)\n')
    const scope = await cli(database, ['clients', 'create', '--name', 'x', '--scope', 'a', '--default-scope', 'b'])
    assert.equal(scope.stderr, `gatehouse: default scope "b" is not among the client's scopes\n`)
  })

  it('refuses an API key lifetime past 10 years with a clear message and exit code 2', async () => {
    for (const seconds of ['1e20', '315360001']) {
      const run = await cli(database, ['api-keys', 'create', '--name', 'forever', '--expires-in', seconds, '--json'])
      assert.deepEqual({ code: run.code, stdout: run.stdout, stderr: run.stderr }, {
        code: 2,
        stdout: '',
        stderr: 'gatehouse: expires-in must be a whole number of seconds from 1 to 315360000 (10 years); leave it out for a key that does not expire\n',
      })
    }
    assert.equal(json(await cli(database, ['api-keys', 'list', '--json'])).api_keys !== undefined, true)
  })

  it('creates users with the password on stdin, never echoing it', async () => {
    const run = await cli(database, ['users', 'create', '--username', 'Eve@Example.com', '--name', 'Eve', '--password-stdin', '--json'], 'a long enough password\n')
    const user = json(run)
    assert.deepEqual({ ...user, id: '', created_at: '' }, { id: '', username: 'eve@example.com', name: 'Eve', email: 'eve@example.com', disabled: false, created_at: '' })
    assert.equal(run.stdout.includes('a long enough password') || run.stderr.includes('a long enough password'), false)
    const duplicate = await cli(database, ['users', 'create', '--username', 'eve@example.com', '--password-stdin'], 'another password')
    assert.deepEqual({ code: duplicate.code, stderr: duplicate.stderr }, { code: 2, stderr: 'gatehouse: user eve@example.com already exists\n' })
    const short = await cli(database, ['users', 'create', '--username', 'fay@example.com', '--password-stdin'], 'short')
    assert.deepEqual({ code: short.code, stderr: short.stderr }, { code: 2, stderr: 'gatehouse: password must be at least 8 characters\n' })
    assert.equal(json(await cli(database, ['users', 'disable', 'eve@example.com', '--json'])).disabled, true)
    assert.equal(json(await cli(database, ['users', 'set-password', 'eve@example.com', '--password-stdin', '--json'], 'a new password here')).username, 'eve@example.com')
    assert.equal((json(await cli(database, ['users', 'list', '--json'])).users as unknown[]).length, 1)
    assert.deepEqual(json(await cli(database, ['users', 'delete', 'eve@example.com', '--json'])), { deleted: 'eve@example.com' })
  })

  it('lists and rotates signing keys: both algorithms, or the one --alg names', async () => {
    type Listed = { kid: string; alg: string; active: boolean; published: boolean }
    const list = async (): Promise<Listed[]> => json(await cli(database, ['keys', 'list', '--json'])).keys as Listed[]
    const row = (k: Listed): string => `${k.kid} ${k.alg} ${String(k.active)} ${String(k.published)}`
    const before = await list()
    assert.deepEqual(before.map((k) => [k.alg, k.active]).sort(), [['ES256', true], ['RS256', true]])
    const rsa = json(await cli(database, ['keys', 'rotate', '--alg', 'RS256', '--json'])).keys as { kid: string; alg: string }[]
    assert.deepEqual(rsa.map((k) => k.alg), ['RS256'])
    const both = json(await cli(database, ['keys', 'rotate', '--json'])).keys as { kid: string; alg: string }[]
    assert.deepEqual(both.map((k) => k.alg), ['ES256', 'RS256'])
    const after = await list()
    const old = (alg: string): string => before.find((k) => k.alg === alg)!.kid
    assert.deepEqual(after.map(row).sort(), [
      `${both[0]!.kid} ES256 true true`,
      `${both[1]!.kid} RS256 true true`,
      `${rsa[0]!.kid} RS256 false true`,
      `${old('ES256')} ES256 false true`,
      `${old('RS256')} RS256 false true`,
    ].sort())
  })

  it('generates the key-encryption secret with mode 0600 when GATEHOUSE_SECRET is unset', async (t) => {
    if (process.env.GATEHOUSE_SECRET) t.skip('GATEHOUSE_SECRET is set in this environment')
    const fresh = await createTestDatabase()
    try {
      const run = await cli(fresh, ['keys', 'list', '--json'], undefined, { GATEHOUSE_SECRET: '' })
      json(run)
      assert.match(run.stderr, /GATEHOUSE_SECRET is not set/)
      assert.equal(statSync(join(fresh.dataDir, 'secret.key')).mode & 0o777, 0o600)
    } finally {
      await fresh.drop()
    }
  })

  it('refuses to start in production without GATEHOUSE_SECRET, saying what to set', async () => {
    const run = await cli(database, ['keys', 'list'], undefined, { NODE_ENV: 'production', GATEHOUSE_SECRET: '', GATEHOUSE_ISSUER: 'https://auth.example.com' })
    assert.equal(run.code, 2)
    assert.equal(run.stderr, 'gatehouse: In production GATEHOUSE_SECRET must be set (it encrypts the signing keys); generate one with: openssl rand -base64 32\n')
    const http = await cli(database, ['keys', 'list'], undefined, { NODE_ENV: 'production', GATEHOUSE_SECRET: 'x'.repeat(40) })
    assert.equal(http.stderr, 'gatehouse: In production the issuer must be an https URL; set GATEHOUSE_ISSUER (got "http://127.0.0.1:8787")\n')
  })
})
