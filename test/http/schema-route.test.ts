import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { declarationSchema } from '../../src/config-as-code/schema.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** GET /schemas/gatehouse.json: the schema of apply files, for editors, at a stable URL. */
describe('the published apply-file schema', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer()
  })
  after(() => server.close())

  it('answers the shipped schema with its $id set to its own URL under the issuer', async () => {
    const answer = await request(`${server.url}/schemas/gatehouse.json`)
    assert.deepEqual(
      { status: answer.status, type: answer.headers.get('content-type'), cache: answer.headers.get('cache-control'), body: answer.body },
      { status: 200, type: 'application/schema+json; charset=utf-8', cache: 'public, max-age=3600', body: declarationSchema(`${server.config.issuer}/schemas/gatehouse.json`) },
    )
    const head = await fetch(`${server.url}/schemas/gatehouse.json`, { method: 'HEAD' })
    assert.deepEqual([head.status, head.headers.get('content-type'), await head.text()], [200, 'application/schema+json; charset=utf-8', ''])
  })

  it('refuses other methods with 404, as any unknown route', async () => {
    const answer = await request(`${server.url}/schemas/gatehouse.json`, { method: 'POST', json: {} })
    assert.equal(answer.status, 404)
  })

  it('property: whatever the query string and headers, the same schema, never an error', async () => {
    const expected = JSON.stringify(declarationSchema(`${server.config.issuer}/schemas/gatehouse.json`))
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.stringMatching(/^[a-z$_]{1,8}$/), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        fc.constantFrom('application/json', 'application/schema+json', 'text/html', '*/*', 'image/png'),
        fc.constantFrom('gzip', 'identity', 'br'),
        async (query, accept, encoding) => {
          const response = await fetch(`${server.url}/schemas/gatehouse.json?${new URLSearchParams(query).toString()}`, { headers: { accept, 'accept-encoding': encoding } })
          assert.deepEqual([response.status, await response.text()], [200, expected])
        },
      ),
      { numRuns: 40 },
    )
  })
})
