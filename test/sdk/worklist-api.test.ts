import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildWorklistApi } from '../../examples/worklist-api/app.js'
import { sampleRecords } from '../../examples/worklist-api/records.js'
import { createTokenClient } from '../../src/sdk/client.js'
import { createVerifier } from '../../src/sdk/verify.js'
import { request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const SEED_SCOPE = 'openid offline_access email profile integrated-api'
/** Seed 001's token endpoint (the IdentityServer dialect). */
const TOKEN_PATH = '/connect/token'

describe('seed 001 end to end: password grant, then the worklist with the Bearer token', () => {
  let server: TestServer
  let api: FastifyInstance
  let apiUrl: string
  let client: { id: string; secret: string }
  let lastAnswer: { scope: string; refresh_token?: string } | undefined

  before(async () => {
    server = await startTestServer()
    client = await server.createClient({
      name: 'Demo App Client',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['openid', 'offline_access', 'email', 'profile', 'integrated-api', 'management-api'],
    })
    await server.createUser('ada@example.com', 'correct horse battery staple', 'Ada')
    api = await buildWorklistApi({ verifier: createVerifier({ issuer: server.url, audience: server.url }) })
    apiUrl = await api.listen({ host: '127.0.0.1', port: 0 })
  })
  after(async () => {
    await api.close()
    await server.close()
  })

  async function passwordToken(scope: string): Promise<string> {
    const answer = await request(`${server.url}${TOKEN_PATH}`, {
      form: { grant_type: 'password', client_id: client.id, client_secret: client.secret, username: 'ada@example.com', password: 'correct horse battery staple', scope },
    })
    assert.equal(answer.status, 200, answer.text)
    const body = answer.body as { access_token: string; scope: string; refresh_token?: string }
    lastAnswer = body
    return body.access_token
  }

  it('gets a token with the seed’s scopes and reads the first worklist page with it', async () => {
    const token = await passwordToken(SEED_SCOPE)
    // offline_access brings a refresh token, as in the seed's answer.
    assert.equal(typeof lastAnswer?.refresh_token, 'string')
    const answer = await request(`${apiUrl}/api/records/worklist?offset=0&limit=20`, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual({ status: answer.status, body: answer.body }, {
      status: 200,
      body: { offset: 0, limit: 20, total: 57, records: sampleRecords().slice(0, 20) },
    })
  })

  it('gets seed 001’s management-api scope as a platform scope that opens nothing at Gatehouse’s /admin/v1', async () => {
    const token = await passwordToken(`${SEED_SCOPE} management-api`)
    assert.equal(lastAnswer?.scope, 'email integrated-api management-api offline_access openid profile')
    const answer = await request(`${server.url}/admin/v1/clients`, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual([answer.status, (answer.body as { detail: string }).detail], [401, `The access token is for the audience ${server.url}; the management API accepts only ${server.url}/admin/v1.`])
  })

  it('pages to the end of the worklist', async () => {
    const token = await passwordToken(SEED_SCOPE)
    const answer = await request(`${apiUrl}/api/records/worklist?offset=40&limit=20`, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual({ status: answer.status, body: answer.body }, {
      status: 200,
      body: { offset: 40, limit: 20, total: 57, records: sampleRecords().slice(40, 57) },
    })
  })

  it('answers a bad offset or limit with a clear 400', async () => {
    const token = await passwordToken(SEED_SCOPE)
    const cases: [string, string][] = [
      ['offset=-1', 'offset must be an integer of 0 or more'],
      ['offset=abc', 'offset must be an integer of 0 or more'],
      ['limit=0', 'limit must be an integer from 1 to 100'],
      ['limit=101', 'limit must be an integer from 1 to 100'],
      ['limit=2.5', 'limit must be an integer from 1 to 100'],
      ['offset=0&offset=1', 'offset must be an integer of 0 or more'],
    ]
    for (const [query, description] of cases) {
      const answer = await request(`${apiUrl}/api/records/worklist?${query}`, { headers: { authorization: `Bearer ${token}` } })
      assert.deepEqual({ query, status: answer.status, body: answer.body }, { query, status: 400, body: { error: 'invalid_request', error_description: description } })
    }
  })

  it('answers 401 with the realm to a request without a token', async () => {
    const answer = await request(`${apiUrl}/api/records/worklist?offset=0&limit=20`)
    assert.deepEqual({ status: answer.status, challenge: answer.headers.get('www-authenticate'), text: answer.text }, {
      status: 401,
      challenge: 'Bearer realm="worklist"',
      text: '',
    })
  })

  it('answers 403 insufficient_scope to a token without integrated-api', async () => {
    const token = await passwordToken('openid profile')
    const answer = await request(`${apiUrl}/api/records/worklist`, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual({ status: answer.status, challenge: answer.headers.get('www-authenticate'), body: answer.body }, {
      status: 403,
      challenge: 'Bearer realm="worklist", error="insufficient_scope", error_description="The access token does not grant the required scope", scope="integrated-api"',
      body: { error: 'insufficient_scope', error_description: 'The access token does not grant the required scope' },
    })
  })

  it('keeps /healthz open', async () => {
    const answer = await request(`${apiUrl}/healthz`)
    assert.deepEqual({ status: answer.status, body: answer.body }, { status: 200, body: { status: 'ok' } })
  })

  it('does the same through the token client', async () => {
    const tokens = createTokenClient({
      issuer: server.url,
      dialect: 'identityserver',
      credentials: { clientId: client.id, clientSecret: client.secret, username: 'ada@example.com', password: 'correct horse battery staple' },
      scope: SEED_SCOPE,
    })
    const answer = await tokens.authFetch(`${apiUrl}/api/records/worklist?offset=20&limit=5`)
    assert.equal(answer.status, 200)
    assert.deepEqual(await answer.json(), { offset: 20, limit: 5, total: 57, records: sampleRecords().slice(20, 25) })
  })
})
