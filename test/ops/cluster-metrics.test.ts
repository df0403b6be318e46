import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { basicHeader } from '../helpers/http.js'
import { runCli, spawnServer } from '../helpers/processes.js'

describe('metrics in cluster mode (serve --workers 2)', () => {
  it('answers a scrape with the sum over all workers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-metrics-'))
    const database = `sqlite:${join(dataDir, 'gatehouse.db')}`
    const env = { GATEHOUSE_DATA_DIR: dataDir }
    await runCli(['migrate', '--database', database], { env })
    const created = (await runCli(['clients', 'create', '--name', 'cluster', '--grant', 'client_credentials', '--scope', 'api', '--json', '--database', database], { env })).json as {
      client_id: string
      client_secret: string
    }
    const server = await spawnServer({ database, dataDir, args: ['--workers', '2'], env: { GATEHOUSE_LOG_LEVEL: 'warn' } })
    try {
      const requests = 40
      const send = (): Promise<Response> =>
        fetch(`${server.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicHeader(created.client_id, created.client_secret), connection: 'close' },
          body: 'grant_type=client_credentials',
        })
      // New connections each time, so the kernel spreads them over both workers.
      const statuses = await Promise.all(Array.from({ length: requests }, () => send().then((response) => response.status)))
      assert.deepEqual([...new Set(statuses)], [200])
      for (let scrape = 0; scrape < 3; scrape++) {
        const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } })).text()
        assert.match(text, new RegExp(`^gatehouse_token_requests_total\\{dialect="rfc6749",route="/oauth/token",grant="client_credentials",outcome="success",error=""\\} ${requests}$`, 'm'))
        assert.match(text, /^gatehouse_signing_keys_published 2$/m)
      }
    } finally {
      assert.equal(await server.stop(), 0)
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
