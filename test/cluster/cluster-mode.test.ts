import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createTestDatabase } from '../helpers/database.js'
import { request } from '../helpers/http.js'
import { runCli, spawnServer, within } from '../helpers/processes.js'

/** Process ids of a process's children (`pgrep -P`), i.e. the cluster's workers. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
  } catch {
    return [] // pgrep exits 1 when there are none
  }
}

test('serve --workers 2 shares one port between two workers, replaces a dead one and stops cleanly on SIGTERM', async () => {
  // SQLite by default (WAL lets the workers share the file); PostgreSQL in the CI PostgreSQL pass.
  const database = await createTestDatabase()
  const server = await spawnServer({ database: database.url, dataDir: database.dataDir, args: ['--workers', '2'] })
  try {
    await within(10_000, async () => server.output().includes('Gatehouse is listening (cluster mode)'))
    const primary = server.child.pid!
    const workers = childrenOf(primary)
    assert.equal(workers.length, 2, server.output())

    const created = await runCli(['clients', 'create', '--name', 'cluster', '--scope', 'api', '--database', database.url, '--json'], {
      env: { GATEHOUSE_DATA_DIR: database.dataDir },
    })
    assert.equal(created.code, 0, created.stderr)
    const { client_id: id, client_secret: secret } = created.json as { client_id: string; client_secret: string }
    const askForTokens = async (): Promise<number[]> =>
      Promise.all(Array.from({ length: 8 }, async () => (await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials' }, basic: { id, secret } })).status))
    assert.deepEqual(await askForTokens(), Array(8).fill(200), server.output())

    // Both workers signed with the keys the primary created before forking: one per algorithm (ES256, RS256).
    const jwks = (await request(`${server.url}/.well-known/jwks.json`)).body as { keys: unknown[] }
    assert.equal(jwks.keys.length, 2)

    process.kill(workers[0]!, 'SIGKILL')
    await within(10_000, async () => {
      const now = childrenOf(primary)
      return now.length === 2 && !now.includes(workers[0]!)
    })
    // The primary's log is written asynchronously: wait for the line rather than expect it already there.
    await within(5000, async () => /a worker died; starting another/.test(server.output()))
    await within(10_000, async () => (await askForTokens()).every((status) => status === 200))

    const current = childrenOf(primary)
    assert.equal(await server.stop(), 0, server.output())
    assert.deepEqual(
      current.filter((pid) => {
        try {
          process.kill(pid, 0)
          return true
        } catch {
          return false
        }
      }),
      [],
    )
    assert.match(server.output(), /shutting down the workers/)
  } finally {
    await server.stop()
    await database.drop()
  }
})
