import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'

const mode = (path: string): number => statSync(path).mode & 0o777

describe('SQLite database files are private to the server user (mode 0600)', () => {
  it('creates the database, -wal and -shm files 0600 whatever the umask', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mode-'))
    const previous = process.umask(0o022)
    try {
      const path = join(dir, 'gatehouse.db')
      const store = openSqliteStore(path)
      await store.migrate()
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        assert.ok(existsSync(file), `${file} exists`)
        assert.equal(mode(file).toString(8), '600', file)
      }
      await store.close()
    } finally {
      process.umask(previous)
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('tightens existing files that were created 0644', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mode-'))
    try {
      const path = join(dir, 'gatehouse.db')
      await openSqliteStore(path).close()
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        if (!existsSync(file)) writeFileSync(file, '')
        chmodSync(file, 0o644)
      }
      const store = openSqliteStore(path)
      for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file).toString(8), '600', file)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
