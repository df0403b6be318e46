import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { runCli, type CliResult } from '../helpers/processes.js'
import { openStore } from '../../src/store/open-store.js'

function cli(database: TestDatabase, args: string[]): Promise<CliResult> {
  return runCli(args, { env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: database.dataDir } })
}

/** --json: exactly one JSON object on stdout. */
function json(run: CliResult): Record<string, unknown> {
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.split('\n').filter(Boolean).length, 1, run.stdout)
  return run.json as Record<string, unknown>
}

const stable = (record: Record<string, unknown>) => ({ ...record, id: '<id>', created_at: '<t>', updated_at: '<t>' })

describe('gatehouse apis', () => {
  let database: TestDatabase

  before(async () => {
    database = await createTestDatabase()
  })
  after(() => database.drop())

  it('registers seed 001 API with a self-service scope, shows, lists, updates and deletes it, each audited as cli', async () => {
    const created = json(
      await cli(database, ['apis', 'create', '--identifier', 'https://api.gospeech.example/', '--name', 'GoSpeech API', '--scope', 'integrated-api=Read and write your worklist records', '--scope', 'records:delete=Delete records = for good', '--self-service', 'integrated-api', '--json']),
    )
    assert.deepEqual(stable(created), {
      id: '<id>',
      identifier: 'https://api.gospeech.example/',
      name: 'GoSpeech API',
      scopes: [
        { name: 'integrated-api', description: 'Read and write your worklist records', self_service: true },
        { name: 'records:delete', description: 'Delete records = for good', self_service: false },
      ],
      created_at: '<t>',
      updated_at: '<t>',
    })
    const id = String(created.id)
    assert.deepEqual(json(await cli(database, ['apis', 'show', 'https://api.gospeech.example/', '--json'])), created)
    assert.deepEqual(json(await cli(database, ['apis', 'list', '--json'])), { apis: [created] })
    const text = await cli(database, ['apis', 'show', id])
    assert.equal(
      text.stdout,
      `id          ${id}\nidentifier  https://api.gospeech.example/\nname        GoSpeech API\nscopes\n  integrated-api  self-service  Read and write your worklist records\n  records:delete  restricted    Delete records = for good\n`,
    )

    const updated = json(await cli(database, ['apis', 'update', id, '--name', 'GoSpeech', '--remove-scope', 'records:delete', '--scope', 'records:read=Read records', '--self-service', 'records:read', '--restricted', 'integrated-api', '--json']))
    assert.deepEqual(stable(updated), {
      ...stable(created),
      name: 'GoSpeech',
      scopes: [
        { name: 'integrated-api', description: 'Read and write your worklist records', self_service: false },
        { name: 'records:read', description: 'Read records', self_service: true },
      ],
    })
    assert.deepEqual(json(await cli(database, ['apis', 'delete', 'https://api.gospeech.example/', '--json'])), { deleted: id, identifier: 'https://api.gospeech.example/' })
    const gone = await cli(database, ['apis', 'show', id])
    assert.deepEqual({ code: gone.code, stdout: gone.stdout, stderr: gone.stderr }, { code: 1, stdout: '', stderr: `gatehouse: no API ${id}\n` })

    const store = openStore(database.url)
    try {
      const events = await store.listAuditEvents({ limit: 10, target: `api:${id}` })
      assert.deepEqual(events.map((event) => [event.actor, event.action]).reverse(), [
        ['cli', 'api.created'],
        ['cli', 'api.updated'],
        ['cli', 'api.deleted'],
      ])
    } finally {
      await store.close()
    }
  })

  it('refuses bad input with a clear message and exit code 2', async () => {
    const cases: [string[], string][] = [
      [['--identifier', 'https://x.example', '--name', 'X', '--scope', 'no-description'], '--scope must be NAME=DESCRIPTION (got "no-description")'],
      [['--identifier', 'https://x.example', '--name', 'X', '--scope', 'a=A', '--self-service', 'b'], '--self-service b: no such --scope given'],
      [['--identifier', 'x.example', '--name', 'X', '--scope', 'a=A'], 'identifier "x.example" is not an absolute URL (e.g. https://api.example.com)'],
      [['--identifier', 'http://127.0.0.1:8787/admin/v1/', '--name', 'X', '--scope', 'a=A'], `identifier "http://127.0.0.1:8787/admin/v1/" is reserved for Gatehouse's own management API`],
      [['--identifier', 'https://x.example', '--name', 'X', '--scope', 'openid=Sign in'], 'scope "openid" is reserved (an OpenID Connect scope); it cannot belong to an API'],
    ]
    for (const [args, message] of cases) {
      const run = await cli(database, ['apis', 'create', ...args, '--json'])
      // Under --json the error is one JSON object on stderr.
      assert.deepEqual({ code: run.code, stdout: run.stdout, stderr: run.stderr }, { code: 2, stdout: '', stderr: `${JSON.stringify({ error: { message, exit_code: 2 } })}\n` })
    }
    json(await cli(database, ['apis', 'create', '--identifier', 'https://y.example', '--name', 'Y', '--scope', 'y=Y', '--json']))
    const taken = await cli(database, ['apis', 'create', '--identifier', 'https://z.example', '--name', 'Z', '--scope', 'y=Y'])
    assert.deepEqual({ code: taken.code, stderr: taken.stderr }, { code: 2, stderr: 'gatehouse: scope "y" (of API https://y.example) already exists\n' })
  })

  it('lets an operator allow users of a client, by username, and any user again', async () => {
    const user = json(await runCli(['users', 'create', '--username', 'dev@example.com', '--password-stdin', '--json'], { env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: database.dataDir }, stdin: 'a long enough password' }))
    const client = json(await cli(database, ['clients', 'create', '--name', 'App', '--grant', 'password', '--allow-user', 'dev@example.com', '--json']))
    assert.deepEqual(client.allowed_users, [user.id])
    const any = json(await cli(database, ['clients', 'update', String(client.client_id), '--allow-any-user', '--json']))
    assert.equal(any.allowed_users, null)
    const unknown = await cli(database, ['clients', 'update', String(client.client_id), '--allow-user', 'nobody@example.com'])
    assert.deepEqual({ code: unknown.code, stderr: unknown.stderr }, { code: 2, stderr: 'gatehouse: no user nobody@example.com (for --allow-user)\n' })
  })
})
