import pg from 'pg'

/** The PostgreSQL server tests use: TEST_DATABASE_URL, or the local one. */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

let reachable: Promise<boolean> | undefined

/**
 * Whether PostgreSQL answers at POSTGRES_URL. With `CI` set a missing PostgreSQL is an
 * error, so a test that needs it fails instead of being skipped.
 */
export async function postgresAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch (error) {
      if (process.env.CI) throw new Error(`PostgreSQL is required in CI but does not answer at ${POSTGRES_URL}`, { cause: error })
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return reachable
}

/** A reason to skip, or false to run: for `test(name, { skip: await skipWithoutPostgres() }, …)`. */
export async function skipWithoutPostgres(): Promise<string | false> {
  return (await postgresAvailable()) ? false : `PostgreSQL does not answer at ${POSTGRES_URL}`
}
