import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { runCli, type CliResult } from '../helpers/processes.js'
import { clientKey, type ClientKey } from '../helpers/assertions.js'

function cli(database: TestDatabase, args: string[]): Promise<CliResult> {
  return runCli(args, { env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: database.dataDir } })
}

/** --json: exactly one JSON object on stdout. */
function json(run: CliResult): Record<string, unknown> {
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.split('\n').filter(Boolean).length, 1, run.stdout)
  return run.json as Record<string, unknown>
}

describe('gatehouse clients with private_key_jwt', () => {
  let database: TestDatabase
  let es: ClientKey
  let ed: ClientKey

  before(async () => {
    database = await createTestDatabase()
    ;[es, ed] = await Promise.all([clientKey('ES256', 'es-1'), clientKey('EdDSA', 'ed-1')])
  })
  after(() => database.drop())

  it('creates a client with --auth-method private_key_jwt --jwks (a JWK, a JWK Set or @FILE) or --jwks-uri: no client secret, the keys shown', async () => {
    const single = json(await cli(database, ['clients', 'create', '--name', 'Billing job', '--auth-method', 'private_key_jwt', '--jwks', JSON.stringify(es.publicJwk), '--scope', 'api', '--json']))
    assert.deepEqual(
      [single.token_endpoint_auth_method, single.jwks, single.jwks_uri, single.grant_types, 'client_secret' in single],
      ['private_key_jwt', { keys: [es.publicJwk] }, null, ['client_credentials'], false],
    )
    const file = join(database.dataDir, 'keys.json')
    writeFileSync(file, JSON.stringify({ keys: [es.publicJwk, ed.publicJwk] }))
    const fromFile = json(await cli(database, ['clients', 'create', '--name', 'Reports', '--auth-method', 'private_key_jwt', '--jwks', `@${file}`, '--json']))
    assert.deepEqual(fromFile.jwks, { keys: [es.publicJwk, ed.publicJwk] })
    const remote = json(await cli(database, ['clients', 'create', '--name', 'Partner', '--auth-method', 'private_key_jwt', '--jwks-uri', 'https://partner.example.com/.well-known/jwks.json', '--json']))
    assert.deepEqual([remote.jwks, remote.jwks_uri, 'client_secret' in remote], [null, 'https://partner.example.com/.well-known/jwks.json', false])

    const text = await cli(database, ['clients', 'create', '--name', 'Text', '--auth-method', 'private_key_jwt', '--jwks', JSON.stringify(ed.publicJwk)])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^token_endpoint_auth_method +private_key_jwt$/m)
    // The stored JWK Set, compared as JSON: node:crypto's JWK member order differs between Node 20 and 24.
    assert.deepEqual(JSON.parse(/^jwks +(.+)$/m.exec(text.stdout)?.[1] ?? 'null'), { keys: [ed.publicJwk] })
    assert.match(text.stdout, /it has no client secret\. It signs a short-lived JWT/)
    assert.doesNotMatch(text.stdout, /client_secret /)

    const shown = json(await cli(database, ['clients', 'show', String(single.client_id), '--json']))
    assert.deepEqual([shown.jwks, shown.jwks_uri], [{ keys: [es.publicJwk] }, null])
  })

  it('clients update moves between --jwks and --jwks-uri, and between a secret and private_key_jwt', async () => {
    const created = json(await cli(database, ['clients', 'create', '--name', 'Mover', '--auth-method', 'private_key_jwt', '--jwks', JSON.stringify(es.publicJwk), '--json']))
    const id = String(created.client_id)
    const toUri = json(await cli(database, ['clients', 'update', id, '--jwks-uri', 'https://keys.example.com/jwks', '--json']))
    assert.deepEqual([toUri.jwks, toUri.jwks_uri], [null, 'https://keys.example.com/jwks'])
    const back = json(await cli(database, ['clients', 'update', id, '--jwks', JSON.stringify({ keys: [ed.publicJwk] }), '--json']))
    assert.deepEqual([back.jwks, back.jwks_uri], [{ keys: [ed.publicJwk] }, null])
    const rotate = await cli(database, ['clients', 'rotate-secret', id])
    assert.deepEqual({ code: rotate.code, stderr: rotate.stderr }, { code: 2, stderr: `gatehouse: client ${id} authenticates with private_key_jwt: it has no secret to rotate; change its keys (jwks or jwks_uri) instead, or its auth method to a secret one first\n` })

    // Back to a secret: the keys go, and rotate-secret makes the secret.
    const secretMethod = json(await cli(database, ['clients', 'update', id, '--auth-method', 'client_secret_basic', '--json']))
    assert.deepEqual([secretMethod.token_endpoint_auth_method, secretMethod.jwks, secretMethod.jwks_uri], ['client_secret_basic', null, null])
    assert.match(String(json(await cli(database, ['clients', 'rotate-secret', id, '--json'])).client_secret), /^[A-Za-z0-9_-]{20,}$/)

    // A secret client moves to keys: it needs them, and its secret ends.
    const needsKeys = await cli(database, ['clients', 'update', id, '--auth-method', 'private_key_jwt'])
    assert.deepEqual({ code: needsKeys.code, stderr: needsKeys.stderr }, { code: 2, stderr: 'gatehouse: a private_key_jwt client needs exactly one of jwks (its public keys) and jwks_uri (where it publishes them)\n' })
    const moved = json(await cli(database, ['clients', 'update', id, '--auth-method', 'private_key_jwt', '--jwks-uri', 'https://keys.example.com/jwks', '--json']))
    assert.deepEqual([moved.token_endpoint_auth_method, moved.jwks_uri], ['private_key_jwt', 'https://keys.example.com/jwks'])
  })

  it('refuses a bad JWKS or jwks_uri with a message that says what is wrong, and exit code 2', async () => {
    const refused = async (...args: string[]): Promise<string> => {
      const run = await cli(database, ['clients', 'create', '--name', 'Bad', ...args, '--json'])
      assert.deepEqual({ code: run.code, stdout: run.stdout }, { code: 2, stdout: '' }, run.stderr)
      // Under --json an error is one JSON object on stderr.
      return (JSON.parse(run.stderr) as { error: { message: string } }).error.message
    }
    const pkjwt = (jwks: unknown): Promise<string> => refused('--auth-method', 'private_key_jwt', '--jwks', typeof jwks === 'string' ? jwks : JSON.stringify(jwks))
    const ecPublic = { ...es.publicJwk }
    assert.equal(
      await pkjwt({ ...es.publicJwk, d: 'c2VjcmV0LXByaXZhdGUtc2NhbGFy' }),
      '--jwks: the key holds private key material ("d"): paste the public key only, and treat this private key as exposed',
    )
    assert.equal(
      await pkjwt({ keys: [ed.publicJwk, { ...ecPublic, kid: 'two', p: 'x', q: 'y' }] }),
      '--jwks: key 2 holds private key material ("p", "q"): paste the public key only, and treat this private key as exposed',
    )
    assert.equal(
      await pkjwt({ kty: 'oct', k: 'c2hhcmVkLXNlY3JldA' }),
      '--jwks: the key is a symmetric key (kty "oct"): register public keys only (EC P-256, RSA or Ed25519); a shared secret key is not a public key',
    )
    assert.equal(await pkjwt('{"keys": [ not json'), '--jwks: the JWKS is not JSON: paste a JWK Set ({"keys":[…]}) or one public JWK ({"kty":…})')
    assert.equal(await pkjwt({ keys: [] }), '--jwks: the JWK Set has no keys')
    assert.equal(await pkjwt({ ...es.publicJwk, crv: 'P-384' }), '--jwks: the key: an EC key must be on curve P-256 (ES256), with x and y')
    assert.equal(await pkjwt({ kty: 'RSA', e: 'AQAB', n: 'A'.repeat(171) }), '--jwks: the key: an RSA key must have at least 2048 bits (RFC 7518 §3.3)')
    assert.equal(await pkjwt({ ...es.publicJwk, alg: 'HS256' }), '--jwks: the key has alg "HS256": an EC key may sign ES256 here (leave alg out to allow it)')
    assert.equal(await pkjwt({ ...es.publicJwk, x: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', y: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 'jwks: the key is not a valid EC public key')
    assert.equal(await refused('--auth-method', 'private_key_jwt'), 'a private_key_jwt client needs exactly one of jwks (its public keys) and jwks_uri (where it publishes them)')
    assert.equal(
      await refused('--auth-method', 'private_key_jwt', '--jwks', JSON.stringify(es.publicJwk), '--jwks-uri', 'https://keys.example.com/jwks'),
      'a private_key_jwt client needs exactly one of jwks (its public keys) and jwks_uri (where it publishes them)',
    )
    assert.equal(await refused('--jwks', JSON.stringify(es.publicJwk)), 'jwks and jwks_uri are for private_key_jwt clients only (set the auth method to private_key_jwt)')
    assert.equal(await refused('--auth-method', 'private_key_jwt', '--jwks-uri', 'keys.json'), 'jwks_uri "keys.json" is not an absolute URL')
    assert.equal(await refused('--auth-method', 'private_key_jwt', '--jwks-uri', 'ftp://keys.example.com/jwks'), 'jwks_uri must be an https URL (or http outside production) (got ftp)')
    assert.equal(await refused('--auth-method', 'private_key_jwt', '--jwks-uri', 'https://keys.example.com/jwks#k1'), 'jwks_uri must not have a #fragment')
    assert.equal(await refused('--auth-method', 'private_key_jwt', '--jwks', '@/no/such/file.json'), '--jwks: cannot read /no/such/file.json (ENOENT)')
    // Nothing was created by any of them.
    const listed = json(await cli(database, ['clients', 'list', '--json'])) as { clients: { name: string }[] }
    assert.equal(listed.clients.filter((client) => client.name === 'Bad').length, 0)
  })
})
