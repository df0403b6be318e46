import { resolve } from 'node:path'
import type { KyselyStore } from './kysely-store.js'
import { openPostgresStore } from './postgres/postgres-store.js'
import { openSqliteStore } from './sqlite/sqlite-store.js'

/**
 * Opens the store a database URL names: `sqlite:./data/gatehouse.db`, `sqlite::memory:`,
 * or `postgres://user@host:5432/db` (also `postgresql://`).
 */
export function openStore(url: string): KyselyStore {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgresStore(url)
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '')
    return openSqliteStore(path === ':memory:' ? path : resolve(path))
  }
  throw new Error(`Unsupported database URL (expected sqlite:PATH or postgres://…): ${redactUrl(url)}`)
}

/** A database URL fit for a log line: the password, if any, is masked. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
