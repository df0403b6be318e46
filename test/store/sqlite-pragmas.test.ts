import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import type { KyselyStore } from '../../src/store/kysely-store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'

/** One PRAGMA's value as SQLite reports it on the store's own connection. */
async function pragma(store: KyselyStore, name: string): Promise<unknown> {
  const result = await sql<Record<string, unknown>>`PRAGMA ${sql.raw(name)}`.execute(store.db)
  return Object.values(result.rows[0] ?? {})[0]
}

describe('the SQLite connection is opened with the settings the docs give', () => {
  it('WAL, synchronous NORMAL, a 5 s busy timeout, foreign keys, and a 2,000 KiB page cache, not the driver build default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pragmas-'))
    const store = openSqliteStore(join(dir, 'gatehouse.db'))
    try {
      assert.equal(await pragma(store, 'journal_mode'), 'wal')
      assert.equal(await pragma(store, 'synchronous'), 1)
      assert.equal(await pragma(store, 'busy_timeout'), 5000)
      assert.equal(await pragma(store, 'foreign_keys'), 1)
      // better-sqlite3's build sets -16000; the page cache filling that was the soak's RSS growth.
      assert.equal(await pragma(store, 'cache_size'), -2000)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
