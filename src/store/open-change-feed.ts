import { LocalChangeFeed, type ChangeFeed } from './change-feed.js'
import type { KyselyStore } from './kysely-store.js'
import { PostgresChangeFeed } from './postgres/postgres-change-feed.js'

/**
 * The change feed for a store: LISTEN/NOTIFY on PostgreSQL, this process only on SQLite.
 * `listen` is for long-running servers; a one-shot command only publishes.
 */
export function openChangeFeed(store: KyselyStore, url: string, options: { listen: boolean; onError?: (error: unknown) => void }): ChangeFeed {
  if (store.kind === 'postgres') return new PostgresChangeFeed(store.db, url, options)
  return new LocalChangeFeed()
}
