import assert from 'node:assert/strict'
import type { TestDatabase } from './database.js'
import { runCli, spawnServer, type ServerProcess } from './processes.js'

/**
 * Two Gatehouse server processes on one PostgreSQL database, as behind a load balancer (one
 * issuer). Client caches and key reloads are set to a minute, so whatever the second instance
 * learns within a test's bounds it learned from the database or LISTEN/NOTIFY, not from a timer.
 */
export const TWO_INSTANCE_ISSUER = 'https://auth.example.test'
const INSTANCE_ENV = { GATEHOUSE_ISSUER: TWO_INSTANCE_ISSUER, GATEHOUSE_CLIENT_CACHE_TTL_MS: '60000', GATEHOUSE_KEY_RELOAD_INTERVAL_MS: '60000' }

export function spawnTwoInstances(database: TestDatabase): Promise<[ServerProcess, ServerProcess]> {
  const spawnOne = () => spawnServer({ database: database.url, dataDir: database.dataDir, env: INSTANCE_ENV })
  return Promise.all([spawnOne(), spawnOne()])
}

/** Stops both (each must exit 0) and drops the database. */
export async function stopTwoInstances(instances: (ServerProcess | undefined)[], database: TestDatabase | undefined): Promise<void> {
  const codes = await Promise.all(instances.map((instance) => instance?.stop()))
  await database?.drop()
  assert.deepEqual(codes, [0, 0])
}

/** The CLI on that database, `--json`, `stdin` fed to commands that read a password. */
export function cliOn(database: () => TestDatabase, stdin: string): (...args: string[]) => Promise<Record<string, unknown>> {
  return async (...args) => {
    const result = await runCli([...args, '--database', database().url, '--json'], { stdin, env: { GATEHOUSE_DATA_DIR: database().dataDir } })
    assert.equal(result.code, 0, result.stderr)
    return result.json as Record<string, unknown>
  }
}
