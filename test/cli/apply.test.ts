import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { runCli, type CliResult } from '../helpers/processes.js'
import { request } from '../helpers/http.js'
import { startTestServer } from '../helpers/server.js'
import { openStore } from '../../src/store/open-store.js'

/**
 * gatehouse apply / export (issue 16), run as the built CLI against a fresh database (SQLite,
 * or PostgreSQL with TEST_DATABASE_URL).
 */

const CI_SECRET = 'ci-secret-from-the-environment-0123456789abcdef'

function cli(database: TestDatabase, args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  return runCli(args, { env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: database.dataDir, CI_SECRET, ...env }, ...(stdin !== undefined ? { stdin } : {}) })
}

const ok = (run: CliResult): CliResult => {
  assert.equal(run.code, 0, run.stderr)
  return run
}

const FILE = (extra = ''): string => `# Gatehouse as code
clients:
  - id: billing-worker
    name: Billing worker
    grantTypes: [client_credentials]
    scopes: [invoices:read]
    accessTokenTtl: 600
  - id: ci
    name: CI
    secretFromEnv: CI_SECRET
    scopes: [invoices:read]
apis:
  - identifier: https://api.example.com
    name: Example API
    scopes:
      - name: invoices:read
        description: Read invoices
        selfService: true
operators:
  - user: ana@example.com
    role: read-only
  - client: ci
    role: admin
${extra}`

describe('gatehouse apply and export', () => {
  let database: TestDatabase
  let file: string
  /** Every apply and export output of this file, to prove the environment's secret never appears. */
  const outputs: string[] = []
  const run = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const result = await cli(database, args, env)
    outputs.push(result.stdout, result.stderr)
    return result
  }
  const write = (text: string): void => writeFileSync(file, text)
  const exported = async (): Promise<string> => ok(await run(['export'])).stdout

  before(async () => {
    database = await createTestDatabase()
    file = join(database.dataDir, 'gatehouse.yaml')
    ok(await cli(database, ['users', 'create', '--username', 'ana@example.com', '--password-stdin'], {}, 'correct horse battery staple'))
  })
  after(() => database.drop())

  it('refuses an invalid file with exit code 2, naming the line and the field, and changes nothing', async () => {
    write('clients:\n  - id: x\n    name: X\n    grantTypes: [client_credentials]\n    secretFromEnvironment: CI_SECRET\n    accessTokenTtl: -5\n')
    const text = await run(['apply', '-f', file])
    assert.deepEqual({ code: text.code, stdout: text.stdout, stderr: text.stderr }, {
      code: 2,
      stdout: '',
      stderr: `gatehouse: ${file}:5: clients[0].secretFromEnvironment: unknown field\n${file}:6: clients[0].accessTokenTtl: must be >= 1\n`,
    })
    const json = await run(['apply', '-f', file, '--json'])
    assert.deepEqual({ code: json.code, stdout: json.stdout, error: JSON.parse(json.stderr) as unknown }, {
      code: 2,
      stdout: '',
      error: { error: { message: `${file}:5: clients[0].secretFromEnvironment: unknown field\n${file}:6: clients[0].accessTokenTtl: must be >= 1`, exit_code: 2 } },
    })
    write('operators:\n  - user: nobody@example.com\n    role: admin\n')
    const unknown = await run(['apply', '-f', file])
    assert.deepEqual([unknown.code, unknown.stderr], [2, `gatehouse: ${file}:2: operators[0].user: no user nobody@example.com (apply never creates users)\n`])
    write(FILE())
    const unset = await run(['apply', '-f', file], { CI_SECRET: '' })
    assert.deepEqual([unset.code, unset.stderr], [2, `gatehouse: ${file}:10: clients[1].secretFromEnv: environment variable CI_SECRET is not set\n`])
    const short = await run(['apply', '-f', file], { CI_SECRET: 'too-short' })
    assert.deepEqual([short.code, short.stderr], [2, `gatehouse: ${file}:10: clients[1].secretFromEnv: the secret in CI_SECRET is shorter than 32 characters\n`])
    const missing = await run(['apply', '-f', join(database.dataDir, 'nope.yaml')])
    assert.deepEqual([missing.code, missing.stderr], [2, `gatehouse: cannot read ${join(database.dataDir, 'nope.yaml')} (ENOENT)\n`])
    assert.match(await exported(), /\nclients: \[\]\napis: \[\]\noperators: \[\]\n/)
  })

  it('--dry-run prints the diff and changes nothing', async () => {
    write(FILE())
    const before = await exported()
    const dry = ok(await run(['apply', '-f', file, '--dry-run']))
    assert.equal(
      dry.stdout,
      [
        '+ api https://api.example.com',
        '    name: "Example API"',
        '    scopes.invoices:read: {"description":"Read invoices","selfService":true}',
        '+ client billing-worker',
        '    name: "Billing worker"',
        '    grantTypes: ["client_credentials"]',
        '    scopes: ["invoices:read"]',
        '    accessTokenTtl: 600',
        '    secret: "(generated, printed once)"',
        '+ client ci',
        '    name: "CI"',
        '    scopes: ["invoices:read"]',
        '    secret: "(from $CI_SECRET)"',
        '+ operator user ana@example.com',
        '    role: "read-only"',
        '+ operator client ci',
        '    role: "admin"',
        '5 change(s): 5 create, 0 update, 0 delete (dry run: nothing was changed)',
        '',
      ].join('\n'),
    )
    assert.equal(await exported(), before)
  })

  it('creates what is missing, through the audited administration functions, printing a generated secret once and never the one from the environment', async () => {
    write(FILE())
    const applied = ok(await run(['apply', '-f', file, '--json']))
    const result = applied.json as { applied: number; dry_run: boolean; changes: { action: string; subject: string }[]; client_secrets: { client_id: string; client_secret: string }[] }
    assert.deepEqual(
      { applied: result.applied, dry_run: result.dry_run, changes: result.changes.map((change) => `${change.action} ${change.subject}`), secrets: result.client_secrets.map((secret) => secret.client_id) },
      { applied: 5, dry_run: false, changes: ['create api https://api.example.com', 'create client billing-worker', 'create client ci', 'create operator user ana@example.com', 'create operator client ci'], secrets: ['billing-worker'] },
    )
    const generated = result.client_secrets[0]?.client_secret ?? ''
    assert.match(generated, /^[A-Za-z0-9_-]{43}$/)

    const shown = ok(await run(['clients', 'show', 'billing-worker', '--json'])).json as Record<string, unknown>
    assert.deepEqual([shown.name, shown.grant_types, shown.scopes, shown.access_token_ttl], ['Billing worker', ['client_credentials'], ['invoices:read'], 600])
    const operators = ok(await run(['operators', 'list', '--json'])).json as { operators: { kind: string; role: string }[] }
    assert.deepEqual(operators.operators.map((entry) => [entry.kind, entry.role]), [['client', 'admin'], ['user', 'read-only']])

    // Both secrets work at the token endpoint of a server on the same database.
    const server = await startTestServer({ database })
    try {
      for (const [id, secret] of [['billing-worker', generated], ['ci', CI_SECRET]] as const) {
        const token = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id, secret } })
        assert.equal(token.status, 200, `${id}: ${token.text}`)
      }
      const wrong = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: 'ci', secret: `${CI_SECRET}x` } })
      assert.equal(wrong.status, 401)
    } finally {
      await server.close()
    }

    const store = openStore(database.url)
    try {
      const events = await store.listAuditEvents({ limit: 50 })
      const api = await store.getApiByIdentifier('https://api.example.com')
      const ana = await store.getUserByUsername('ana@example.com')
      // The token requests above are audited too (as anonymous failures and successes): only the CLI's here.
      assert.deepEqual(events.filter((event) => event.actor === 'cli').map((event) => [event.action, event.target]).reverse().slice(-5), [
        ['api.created', `api:${api?.id}`],
        ['client.created', 'client:billing-worker'],
        ['client.created', 'client:ci'],
        ['operator.added', `user:${ana?.id}`],
        ['operator.added', 'client:ci'],
      ])
      assert.ok(!JSON.stringify(events).includes(CI_SECRET) && !JSON.stringify(events).includes(generated), 'no secret in the audit log')
    } finally {
      await store.close()
    }
  })

  it('a second apply of the same file changes nothing and says so', async () => {
    const again = ok(await run(['apply', '-f', file]))
    assert.deepEqual([again.stdout, again.stderr], [`nothing to change: the server matches ${file}\n`, ''])
    const json = ok(await run(['apply', '-f', file, '--json']))
    assert.deepEqual(json.json, { dry_run: false, changes: [], kept: [], applied: 0 })
  })

  it('updates only what differs, field by field old → new, and a changed secret in the environment', async () => {
    write(FILE().replace('accessTokenTtl: 600', 'accessTokenTtl: 900').replace('description: Read invoices', 'description: Read all invoices').replace('role: read-only', 'role: admin'))
    const NEW_SECRET = 'a-rotated-secret-from-the-environment-0123456789'
    const updated = ok(await run(['apply', '-f', file], { CI_SECRET: NEW_SECRET }))
    assert.equal(
      updated.stdout,
      [
        '~ api https://api.example.com',
        '    scopes.invoices:read.description: "Read invoices" → "Read all invoices"',
        '~ client billing-worker',
        '    accessTokenTtl: 600 → 900',
        '~ client ci (secret)',
        '    secret: "(another)" → "(from $CI_SECRET)"',
        '~ operator user ana@example.com',
        '    role: "read-only" → "admin"',
        'applied 4 change(s): 0 create, 4 update, 0 delete',
        '',
      ].join('\n'),
    )
    const server = await startTestServer({ database })
    try {
      const [fresh, old] = await Promise.all([NEW_SECRET, CI_SECRET].map((secret) => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id: 'ci', secret } })))
      assert.deepEqual([fresh?.status, old?.status], [200, 401])
    } finally {
      await server.close()
    }
    assert.ok(!updated.stdout.includes(NEW_SECRET) && !updated.stderr.includes(NEW_SECRET))
    assert.equal(ok(await run(['apply', '-f', file], { CI_SECRET: NEW_SECRET })).stdout, `nothing to change: the server matches ${file}\n`)
  })

  it('export then apply is a no-op; the exported file names the schema and holds no secret', async () => {
    const out = join(database.dataDir, 'exported.yaml')
    const wrote = ok(await run(['export', '-o', out, '--issuer', 'https://id.example.com']))
    assert.equal(wrote.stdout, `wrote ${out}: 2 client(s), 1 API(s), 2 operator entr(ies)\n`)
    const text = readFileSync(out, 'utf8')
    assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=https://id.example.com/schemas/gatehouse.json')
    // No secretFromEnv, secret or digest field: only the header's sentence and the auth method say the word.
    assert.deepEqual(text.split('\n').filter((line) => /secret/i.test(line) && !line.endsWith('tokenEndpointAuthMethod: client_secret_basic')), [
      '# gatehouse export: apply with gatehouse apply -f FILE (docs/config-as-code.md). No secrets are in this file.',
    ])
    assert.match(text, /\n {2}- user: ana@example\.com\n {4}role: admin\n/)
    const applied = ok(await run(['apply', '-f', out, '--prune'], { CI_SECRET: 'unused-since-the-export-names-no-env-variable' }))
    assert.equal(applied.stdout, `nothing to change: the server matches ${out}\n`)
  })

  it('--prune removes what the file no longer names (in the dry run first), never the user', async () => {
    write(FILE().replace('description: Read invoices', 'description: Read all invoices').replace(/ {2}- id: billing-worker[\s\S]*?accessTokenTtl: 600\n/, '').replace(/operators:[\s\S]*$/, 'operators:\n  - client: ci\n    role: admin\n'))
    const NEW_SECRET = 'a-rotated-secret-from-the-environment-0123456789'
    const kept = ok(await run(['apply', '-f', file], { CI_SECRET: NEW_SECRET }))
    assert.equal(kept.stdout, `not in the file, kept (--prune removes them): client billing-worker, operator user ana@example.com\nnothing to change: the server matches ${file}\n`)
    const dry = ok(await run(['apply', '-f', file, '--prune', '--dry-run'], { CI_SECRET: NEW_SECRET }))
    assert.equal(dry.stdout, ['- operator user ana@example.com', '    role: "admin" (removed)', '- client billing-worker', '2 change(s): 0 create, 0 update, 2 delete (dry run: nothing was changed)', ''].join('\n'))
    assert.equal(ok(await run(['clients', 'show', 'billing-worker'])).code, 0)
    const pruned = ok(await run(['apply', '-f', file, '--prune'], { CI_SECRET: NEW_SECRET }))
    assert.match(pruned.stdout, /\napplied 2 change\(s\): 0 create, 0 update, 2 delete\n$/)
    const gone = await run(['clients', 'show', 'billing-worker'])
    assert.deepEqual([gone.code, gone.stderr], [1, 'gatehouse: no client with id billing-worker\n'])
    const users = ok(await run(['users', 'list', '--json'])).json as { users: { username: string }[] }
    assert.deepEqual(users.users.map((user) => user.username), ['ana@example.com'])
    const operators = ok(await run(['operators', 'list', '--json'])).json as { operators: { kind: string; id: string }[] }
    assert.deepEqual(operators.operators.map((entry) => `${entry.kind}:${entry.id}`), ['client:ci'])
    assert.equal(ok(await run(['apply', '-f', file, '--prune'], { CI_SECRET: NEW_SECRET })).stdout, `nothing to change: the server matches ${file}\n`)
  })

  it('writes dialect settings into the server config file, keeping its other members, and refuses without one', async () => {
    const config = join(database.dataDir, 'server.json')
    write('dialects:\n  wrapped:\n    enabled: false\n  identityserver:\n    paths: { token: /idp/token }\n')
    const refused = await run(['apply', '-f', file])
    assert.deepEqual([refused.code, refused.stderr], [2, `gatehouse: ${file}:1: dialects: dialect settings live in the server config file: name it with --config FILE (or GATEHOUSE_CONFIG), the file serve reads\n`])
    assert.equal(existsSync(config), false)
    writeFileSync(config, JSON.stringify({ note: 'kept' }))
    const applied = ok(await run(['apply', '-f', file, '--config', config]))
    assert.equal(
      applied.stdout,
      ['~ dialects (server config file; effective when the server restarts)', '    identityserver.paths.token: "/connect/token" → "/idp/token"', '    wrapped.enabled: true → false', 'applied 1 change(s): 0 create, 1 update, 0 delete', ''].join('\n'),
    )
    assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), { note: 'kept', dialects: { canary: { enabled: true }, identityserver: { enabled: true, paths: { token: '/idp/token' } }, wrapped: { enabled: false } } })
    assert.equal(ok(await run(['apply', '-f', file], { GATEHOUSE_CONFIG: config })).stdout, `nothing to change: the server matches ${file}\n`)
    write('dialects:\n  identityserver:\n    paths: { token: /oauth/token }\n')
    const taken = await run(['apply', '-f', file, '--config', config])
    assert.deepEqual([taken.code, taken.stderr], [2, `gatehouse: ${file}:1: dialects: identityserver.token uses /oauth/token, which a standard endpoint already uses\n`])
  })

  it('stops at the first change the server refuses, saying what was already done (exit 2)', async () => {
    write('apis:\n  - identifier: https://refused.example.com\n    name: R\n    scopes: [{ name: r:read, description: Read }]\nclients:\n  - id: bad\n    name: Bad\n    grantTypes: [authorization_code]\n')
    const refused = await run(['apply', '-f', file])
    assert.deepEqual({ code: refused.code, stdout: refused.stdout, stderr: refused.stderr }, {
      code: 2,
      stdout: 'done: api https://refused.example.com (create)\n',
      stderr: 'gatehouse: client bad (create): the authorization_code grant needs at least one redirect URI; 1 earlier change(s) were applied\n',
    })
    const show = await run(['clients', 'show', 'bad'])
    assert.equal(show.code, 1)
  })

  it('never printed the secret read from the environment', () => {
    assert.ok(outputs.length > 0)
    for (const output of outputs) assert.ok(!output.includes(CI_SECRET), output)
  })
})
