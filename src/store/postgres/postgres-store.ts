import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import { KyselyStore } from '../kysely-store.js'
import type { Database } from '../schema.js'

// Times are bigint milliseconds, well inside Number's exact range: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

export interface PostgresStoreOptions {
  poolSize?: number
}

export function openPostgresStore(connectionString: string, options: PostgresStoreOptions = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 3000,
    // Don't let a dead database hold a request past its timeout.
    query_timeout: 5000,
  })
  // An idle client's error (e.g. the server restarted) must not crash the process.
  pool.on('error', () => {})
  // A checked-out client (e.g. between the statements of a transaction) whose connection is
  // killed emits 'error' with no pool listener attached: without this, an outage would crash the
  // process. The failure still reaches the query that uses the client (issue 7).
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return new KyselyStore(db, {
    kind: 'postgres',
    isUniqueViolation: (error) => error instanceof Error && 'code' in error && error.code === '23505',
  })
}
