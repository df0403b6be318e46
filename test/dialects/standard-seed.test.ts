import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { introspect, runCurl, verifyWithJwks } from './support.js'

/** Seed 002's curl, verbatim but for the base path and the placeholders. */
const SEED_CURL = `curl --location --request POST 'https://<<api_base_path>>/oauth/token' \\
--header 'Content-Type: application/json' \\
--data-raw '{
    "client_id": "<<client_id>>",
    "client_secret": "<<client_secret>>",
    "grant_type": "client_credentials"
}'`

describe('standard endpoint with seed 002\'s requests', () => {
  let server: TestServer
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    client = await server.createClient()
  })
  after(() => server.close())

  const check = async (status: number, body: unknown, cacheControl: string | undefined): Promise<void> => {
    assert.equal(status, 200)
    assert.equal(cacheControl, 'no-store')
    const answer = body as Record<string, unknown>
    assert.deepEqual(Object.keys(answer), ['access_token', 'token_type', 'expires_in', 'scope'])
    // The seed's snippets read access_token and expires_in ("expired in N seconds").
    assert.deepEqual([answer.token_type, answer.expires_in], ['Bearer', 3600])
    assert.equal((await verifyWithJwks(server.url, answer.access_token as string)).client_id, client.id)
    assert.equal((await introspect(server.url, client, answer.access_token as string)).active, true)
  }

  it('answers the seed curl (JSON body)', async () => {
    const command = SEED_CURL.replace('https://<<api_base_path>>', server.url).replace('<<client_id>>', client.id).replace('<<client_secret>>', client.secret)
    const answer = await runCurl(command)
    await check(answer.status, answer.body, answer.headers['cache-control'])
  })

  it('answers the request the Ruby and PHP snippets send (POST, Content-Type: application/json)', async () => {
    const payload = { client_id: client.id, client_secret: client.secret, grant_type: 'client_credentials' }
    const response = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) })
    await check(response.status, await response.json(), response.headers.get('cache-control') ?? undefined)
  })
})
