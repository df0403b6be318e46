import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { KyselyStore } from '../kysely-store.js'
import type { Database } from '../schema.js'

/** Opens (creating if need be) an SQLite database file; `:memory:` works for tests. */
export function openSqliteStore(path: string): KyselyStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const database = new BetterSqlite3(path)
  // WAL lets readers run beside the one writer, and several worker processes share the file.
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = NORMAL')
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
  return new KyselyStore(db, {
    kind: 'sqlite',
    isUniqueViolation: (error) =>
      error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT'),
  })
}
