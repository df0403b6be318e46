import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrations } from '../../src/store/migrations/index.js'
import { createPostgresTestDatabase } from '../helpers/database.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { runCli } from '../helpers/processes.js'

const ALL = Object.keys(migrations).sort()

const databases = [
  {
    kind: 'SQLite',
    skip: false as string | false,
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-migrate-'))
      return { url: `sqlite:${join(dir, 'g.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  { kind: 'PostgreSQL', skip: await skipWithoutPostgres(), fresh: () => createPostgresTestDatabase(POSTGRES_URL) },
]

for (const database of databases) {
  describe(`gatehouse migrate on ${database.kind}`, { skip: database.skip }, () => {
    test('applies every migration to an empty database and says which, then nothing the second time', async () => {
      const fresh = await database.fresh()
      try {
        const first = await runCli(['migrate', '--database', fresh.url, '--json'])
        assert.deepEqual({ code: first.code, json: first.json, stderr: first.stderr }, { code: 0, json: { applied: ALL }, stderr: '' })

        const again = await runCli(['migrate', '--database', fresh.url, '--json'])
        assert.deepEqual({ code: again.code, json: again.json }, { code: 0, json: { applied: [] } })

        const text = await runCli(['migrate', '--database', fresh.url])
        assert.deepEqual({ code: text.code, stdout: text.stdout }, { code: 0, stdout: 'up to date: nothing to apply\n' })
      } finally {
        await fresh.drop()
      }
    })

    test('prints the applied names as text', async () => {
      const fresh = await database.fresh()
      try {
        const text = await runCli(['migrate', '--database', fresh.url])
        assert.deepEqual({ code: text.code, stdout: text.stdout }, { code: 0, stdout: `applied: ${ALL.join(', ')}\n` })
      } finally {
        await fresh.drop()
      }
    })
  })
}

test('gatehouse migrate refuses an unsupported database URL without a stack trace', async () => {
  const result = await runCli(['migrate', '--database', 'mysql://root@localhost/db'])
  assert.equal(result.code === 0, false)
  assert.doesNotMatch(result.stderr, /\n\s+at /)
  assert.match(result.stderr, /Unsupported database URL/)
})
