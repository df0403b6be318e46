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
/** What a command printed on stderr under --json for an error: one JSON object (README "Command line"). */
function jsonError(message: string, exitCode = 2): string {
  return `${JSON.stringify({ error: { message, exit_code: exitCode } })}\n`
}

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
      application_type: null,
      token_endpoint_auth_method: 'client_secret_basic',
      jwks: null,
      jwks_uri: null,
      grant_types: ['client_credentials', 'refresh_token'],
      redirect_uris: [],
      post_logout_redirect_uris: [],
      require_par: false,
      require_dpop: false,
      resources: [],
      allow_impersonation: false,
      skip_consent: false,
      scopes: ['api', 'read'],
      default_scopes: [],
      audience: 'https://api.example.com',
      token_format: 'opaque',
      signing_alg: 'ES256',
      access_token_ttl: 900,
      refresh_token_ttl: 2592000,
      refresh_token_sliding_ttl: 1296000,
      refresh_reuse_interval: 0,
      token_reuse_seconds: 0,
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

    const updated = json(await cli(database, ['clients', 'update', created.client_id as string, '--name', 'Renamed', '--refresh-reuse-interval', '5', '--token-reuse', '30', '--json']))
    assert.equal(updated.name, 'Renamed')
    assert.equal(updated.refresh_reuse_interval, 5)
    assert.equal(updated.token_reuse_seconds, 30)
    assert.equal(updated.token_format, 'opaque')
    assert.equal(updated.signing_alg, 'ES256')

    assert.deepEqual(json(await cli(database, ['clients', 'delete', created.client_id as string, '--json'])), { deleted: created.client_id })
    const gone = await cli(database, ['clients', 'show', created.client_id as string, '--json'])
    assert.deepEqual({ code: gone.code, stdout: gone.stdout, stderr: gone.stderr }, { code: 1, stdout: '', stderr: jsonError(`no client with id ${created.client_id}`, 1) })
  })

  it('sets a client\'s signing algorithm with --signing-alg on create and update, and refuses any other', async () => {
    const created = json(await cli(database, ['clients', 'create', '--name', 'RSA verifier', '--signing-alg', 'RS256', '--json']))
    assert.equal(created.signing_alg, 'RS256')
    const updated = json(await cli(database, ['clients', 'update', created.client_id as string, '--signing-alg', 'ES256', '--json']))
    assert.equal(updated.signing_alg, 'ES256')
    assert.equal(json(await cli(database, ['clients', 'update', created.client_id as string, '--signing-alg', 'RS256', '--json'])).signing_alg, 'RS256')
    assert.equal(json(await cli(database, ['clients', 'show', created.client_id as string, '--json'])).signing_alg, 'RS256')
    const refused = await cli(database, ['clients', 'create', '--name', 'x', '--signing-alg', 'HS256', '--json'])
    // A usage error: exit 2; under --json commander's message as one JSON object.
    assert.deepEqual({ code: refused.code, stdout: refused.stdout, stderr: refused.stderr }, {
      code: 2,
      stdout: '',
      stderr: jsonError("option '--signing-alg <alg>' argument 'HS256' is invalid. Allowed choices are ES256, RS256."),
    })
    assert.deepEqual(json(await cli(database, ['clients', 'delete', created.client_id as string, '--json'])), { deleted: created.client_id })
  })

  it('refuses bad client settings with a clear message and exit code 2', async () => {
    const run = await cli(database, ['clients', 'create', '--name', 'x', '--grant', 'implicit', '--json'])
    assert.deepEqual({ code: run.code, stdout: run.stdout }, { code: 2, stdout: '' })
    assert.equal(run.stderr, jsonError('unknown grant type "implicit" (one of client_credentials, password, refresh_token, api_key, authorization_code, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange)'))
    const scope = await cli(database, ['clients', 'create', '--name', 'x', '--scope', 'a', '--default-scope', 'b'])
    assert.equal(scope.stderr, `gatehouse: default scope "b" is not among the client's scopes\n`)
  })

  it('creates a public client (--auth-method none): no client_secret in the JSON or the text, and no secret to rotate', async () => {
    const args = ['clients', 'create', '--name', 'Storefront', '--auth-method', 'none', '--app-type', 'spa', '--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', 'https://shop.example.com/cb', '--redirect-uri', 'http://127.0.0.1:5173/cb', '--post-logout-redirect-uri', 'https://shop.example.com/', '--scope', 'openid orders:read']
    const created = json(await cli(database, [...args, '--json']))
    assert.equal('client_secret' in created, false)
    assert.deepEqual(
      [created.token_endpoint_auth_method, created.application_type, created.grant_types, created.redirect_uris, created.post_logout_redirect_uris, created.require_par, created.skip_consent, created.rotate_refresh_tokens],
      ['none', 'spa', ['authorization_code', 'refresh_token'], ['https://shop.example.com/cb', 'http://127.0.0.1:5173/cb'], ['https://shop.example.com/'], false, false, true],
    )
    const text = await cli(database, args)
    assert.equal(text.code, 0, text.stderr)
    assert.doesNotMatch(text.stdout, /client_secret /)
    assert.match(text.stdout, /^token_endpoint_auth_method +none$/m)
    assert.match(text.stdout, /^redirect_uris +https:\/\/shop\.example\.com\/cb http:\/\/127\.0\.0\.1:5173\/cb$/m)
    assert.match(text.stdout, /This is a public client \(auth method none\): it has no client secret\./)

    const id = created.client_id as string
    const rotate = await cli(database, ['clients', 'rotate-secret', id])
    assert.deepEqual({ code: rotate.code, stdout: rotate.stdout, stderr: rotate.stderr }, { code: 2, stdout: '', stderr: `gatehouse: client ${id} is a public client (auth method none): it has no secret to rotate\n` })
    const confidential = await cli(database, ['clients', 'update', id, '--auth-method', 'client_secret_post'])
    assert.deepEqual({ code: confidential.code, stderr: confidential.stderr }, { code: 2, stderr: 'gatehouse: a client cannot change between public (auth method none) and confidential; create a new client\n' })

    // update: the same flags; a list flag replaces the list, --require-par / --no-require-par switch.
    const updated = json(await cli(database, ['clients', 'update', id, '--redirect-uri', 'https://shop.example.com/callback', '--require-par', '--skip-consent', '--app-type', 'native', '--json']))
    assert.deepEqual([updated.redirect_uris, updated.post_logout_redirect_uris, updated.require_par, updated.skip_consent, updated.application_type], [['https://shop.example.com/callback'], ['https://shop.example.com/'], true, true, 'native'])
    const renamed = json(await cli(database, ['clients', 'update', id, '--name', 'Shop', '--json']))
    assert.deepEqual([renamed.require_par, renamed.skip_consent], [true, true])
    const off = json(await cli(database, ['clients', 'update', id, '--no-require-par', '--no-skip-consent', '--json']))
    assert.deepEqual([off.require_par, off.skip_consent], [false, false])
    // RFC 9449: --require-dpop / --no-require-dpop switch, on create too.
    assert.equal(json(await cli(database, ['clients', 'update', id, '--require-dpop', '--json'])).require_dpop, true)
    assert.equal(json(await cli(database, ['clients', 'update', id, '--no-require-dpop', '--json'])).require_dpop, false)
    assert.equal(json(await cli(database, ['clients', 'create', '--name', 'Bound', '--require-dpop', '--json'])).require_dpop, true)
    const shown = json(await cli(database, ['clients', 'show', id, '--json']))
    assert.deepEqual([shown.token_endpoint_auth_method, shown.redirect_uris, 'client_secret' in shown], ['none', ['https://shop.example.com/callback'], false])
    const listed = await cli(database, ['clients', 'list'])
    assert.match(listed.stdout, new RegExp(`^${id} +Shop +native +none +authorization_code refresh_token `, 'm'))
    assert.deepEqual(json(await cli(database, ['clients', 'delete', id, '--json'])), { deleted: id })
  })

  it('--resource, --no-resources, --allow-impersonation and --grant token_exchange (RFC 8707, RFC 8693)', async () => {
    const created = json(await cli(database, ['clients', 'create', '--name', 'Orders service', '--grant', 'token_exchange', '--grant', 'client_credentials', '--resource', 'https://orders.example.com/', '--resource', 'https://billing.example.com/', '--allow-impersonation', '--json']))
    assert.deepEqual([created.grant_types, created.resources, created.allow_impersonation], [['urn:ietf:params:oauth:grant-type:token-exchange', 'client_credentials'], ['https://orders.example.com/', 'https://billing.example.com/'], true])
    const id = created.client_id as string
    const narrowed = json(await cli(database, ['clients', 'update', id, '--resource', 'https://ledger.example.com/', '--no-allow-impersonation', '--json']))
    assert.deepEqual([narrowed.resources, narrowed.allow_impersonation], [['https://ledger.example.com/'], false])
    assert.deepEqual(json(await cli(database, ['clients', 'update', id, '--no-resources', '--json'])).resources, [])
    const refused = await cli(database, ['clients', 'update', id, '--resource', 'orders'])
    assert.deepEqual({ code: refused.code, stderr: refused.stderr }, { code: 2, stderr: 'gatehouse: resource "orders" is not an absolute URI (RFC 8707 §2: an absolute URI without a fragment)\n' })
  })

  it('--grant device_code stores the device grant URN; a confidential client may register client_secret_post', async () => {
    const device = json(await cli(database, ['clients', 'create', '--name', 'TV app', '--auth-method', 'none', '--grant', 'device_code', '--grant', 'refresh_token', '--json']))
    assert.deepEqual(device.grant_types, ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'])
    const urn = json(await cli(database, ['clients', 'create', '--name', 'TV app 2', '--auth-method', 'none', '--grant', 'urn:ietf:params:oauth:grant-type:device_code', '--json']))
    assert.deepEqual(urn.grant_types, ['urn:ietf:params:oauth:grant-type:device_code'])
    const post = json(await cli(database, ['clients', 'create', '--name', 'Portal', '--auth-method', 'client_secret_post', '--app-type', 'web', '--grant', 'authorization_code', '--redirect-uri', 'https://portal.example.com/cb', '--json']))
    assert.match(String(post.client_secret), /^[A-Za-z0-9_-]{43}$/)
    assert.equal(post.token_endpoint_auth_method, 'client_secret_post')
    for (const created of [device, urn, post]) json(await cli(database, ['clients', 'delete', created.client_id as string, '--json']))
  })

  it('refuses bad redirect URIs, public clients with a client_credentials or password grant, and unknown auth methods, with clear messages', async () => {
    const refused = async (args: string[]): Promise<string> => {
      const run = await cli(database, ['clients', 'create', '--name', 'x', ...args, '--json'])
      assert.deepEqual({ code: run.code, stdout: run.stdout }, { code: 2, stdout: '' }, run.stderr)
      return (JSON.parse(run.stderr) as { error: { message: string } }).error.message
    }
    const withRedirect = (uri: string): string[] => ['--grant', 'authorization_code', '--redirect-uri', uri]
    assert.equal(await refused(withRedirect('javascript:alert(1)')), 'redirect URI scheme javascript: is not allowed')
    assert.equal(await refused(withRedirect('http://evil.example/cb')), 'redirect URI http://evil.example/cb must use https (http only on a loopback address, RFC 8252 §7.3)')
    assert.equal(await refused(withRedirect('https://a.example/cb#frag')), 'redirect URI https://a.example/cb#frag must not have a fragment (RFC 6749 §3.1.2)')
    assert.equal(await refused(withRedirect('/cb')), 'redirect URI "/cb" is not an absolute URI')
    assert.equal(await refused(['--grant', 'authorization_code']), 'the authorization_code grant needs at least one redirect URI')
    assert.equal(await refused(['--auth-method', 'none', '--grant', 'client_credentials']), 'a public client (auth method none) may use only authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, not client_credentials')
    // With no --grant a client gets client_credentials, which a public client may not have.
    assert.equal(await refused(['--auth-method', 'none']), 'a public client (auth method none) may use only authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, not client_credentials')
    assert.equal(await refused(['--auth-method', 'none', '--grant', 'password', '--grant', 'refresh_token']), 'a public client (auth method none) may use only authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code, not password')
    const method = await cli(database, ['clients', 'create', '--name', 'x', '--auth-method', 'client_secret_jwt'])
    assert.deepEqual([method.code, method.stderr.split('\n')[0]], [2, "error: option '--auth-method <method>' argument 'client_secret_jwt' is invalid. Allowed choices are client_secret_basic, client_secret_post, none, private_key_jwt."])
    const type = await cli(database, ['clients', 'create', '--name', 'x', '--app-type', 'desktop'])
    assert.deepEqual([type.code, type.stderr.split('\n')[0]], [2, "error: option '--app-type <type>' argument 'desktop' is invalid. Allowed choices are web, spa, native, device, machine, api_key."])
  })

  it('refuses an API key lifetime past 10 years with a clear message and exit code 2', async () => {
    for (const seconds of ['1e20', '315360001']) {
      const run = await cli(database, ['api-keys', 'create', '--name', 'forever', '--expires-in', seconds, '--json'])
      assert.deepEqual({ code: run.code, stdout: run.stdout, stderr: run.stderr }, {
        code: 2,
        stdout: '',
        stderr: jsonError('expires-in must be a whole number of seconds from 1 to 315360000 (10 years); leave it out for a key that does not expire'),
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
