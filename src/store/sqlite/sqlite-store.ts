import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely'
import { BoundedMap } from '../../core/bounded-map.js'
import { KyselyStore } from '../kysely-store.js'
import type { Database } from '../schema.js'

/** The database and its WAL companions hold every digest, grant and encrypted key. */
const PRIVATE_FILE_MODE = 0o600

/**
 * Creates the database file 0600 before SQLite opens it (SQLite gives the -wal and -shm files it
 * creates the database file's mode), and tightens files an older version left 0644. chmod, not
 * the umask, decides, so the mode holds whatever umask the server runs under.
 */
function makePrivate(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', PRIVATE_FILE_MODE))
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE)
}

/**
 * Kysely's SQLite driver prepares every statement anew; preparing (parsing and planning) cost
 * as much as running the refresh grant's join. Statements are kept by their SQL text instead,
 * at most 500 (least recently used out): a multi-row INSERT of another row count is another
 * text, so the bound matters. A statement is run to completion synchronously (`all`/`run`;
 * nothing here streams), so one statement object is never in use twice at once.
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new BoundedMap<string, BetterSqlite3.Statement>(500)
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = statements.get(text)
      if (statement === undefined) {
        statement = database.prepare(text)
        statements.set(text, statement)
      }
      return statement
    },
  }
}

/**
 * SQLite's page cache for the connection, in KiB (cache_size takes a negative number as KiB).
 * better-sqlite3 builds SQLite with 16,000 KiB (SQLITE_DEFAULT_CACHE_SIZE=-16000), which the
 * cache fills only as the database grows: in a 10-minute soak it was the RSS that kept rising for
 * minutes after warm-up (docs/operations.md, Memory). 2,000 KiB is SQLite's own default. A page
 * it misses is read back from the operating system's page cache (a pread, not a disk read); in
 * back-to-back soaks at a fixed rate the smaller cache was not the slower.
 */
const PAGE_CACHE_KIB = 2000

/** Opens (creating if need be) an SQLite database file, mode 0600; `:memory:` works for tests. */
export function openSqliteStore(path: string): KyselyStore {
  const onDisk = path !== ':memory:' && path !== ''
  if (onDisk) {
    mkdirSync(dirname(path), { recursive: true })
    makePrivate(path)
  }
  const database = new BetterSqlite3(path)
  // WAL lets readers run beside the one writer, and several worker processes share the file.
  database.pragma('journal_mode = WAL')
  if (onDisk) makePrivate(path)
  database.pragma('synchronous = NORMAL')
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  database.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) })
  return new KyselyStore(db, {
    kind: 'sqlite',
    isUniqueViolation: (error) =>
      error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT'),
  })
}
