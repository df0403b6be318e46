import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

/**
 * A fresh, empty database for one test server. SQLite by default (a temp file);
 * PostgreSQL when TEST_DATABASE_URL is set: a new database is created beside the one it
 * names and dropped afterwards, so test files never share state.
 */
export interface TestDatabase {
  url: string
  /** Where secret.key and other data files go. */
  dataDir: string
  drop(): Promise<void>
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'))
  const base = process.env.TEST_DATABASE_URL
  if (!base) {
    return {
      url: `sqlite:${join(dataDir, 'gatehouse.db')}`,
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    }
  }
  return createPostgresTestDatabase(base, dataDir)
}

/** A fresh PostgreSQL database created beside the one `base` names, whatever TEST_DATABASE_URL says. */
export async function createPostgresTestDatabase(base: string, dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'))): Promise<TestDatabase> {
  const name = `gatehouse_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(base)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    dataDir,
    async drop() {
      const client = new pg.Client({ connectionString: base })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
