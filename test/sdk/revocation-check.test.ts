import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BearerTokenError, createVerifier } from '../../src/sdk/verify.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

const PASSWORD = 'correct horse battery staple'

describe('the verifier’s opt-in revocation check against a real server', () => {
  let server: TestServer
  let app: { id: string; secret: string }
  let api: { id: string; secret: string }

  before(async () => {
    server = await startTestServer()
    app = await server.createClient({ scopes: ['api'] })
    api = await server.createClient({ name: 'worklist api', grantTypes: ['client_credentials'], scopes: [] })
    await server.createUser('ann@example.com', PASSWORD)
  })
  after(() => server.close())

  const login = async (): Promise<{ access_token: string; refresh_token: string }> => {
    const answer = await request(`${server.url}/oauth/token`, { form: { grant_type: 'password', username: 'ann@example.com', password: PASSWORD, scope: 'api' }, basic: app })
    assert.equal(answer.status, 200, answer.text)
    return answer.body as { access_token: string; refresh_token: string }
  }

  it('refuses a JWT whose grant ended, which the offline check still accepts', async () => {
    const offline = createVerifier({ issuer: server.url, audience: server.url })
    const online = createVerifier({
      issuer: server.url,
      audience: server.url,
      checkRevocation: true,
      introspection: { clientId: api.id, clientSecret: api.secret, cacheTtlSeconds: 0 },
    })
    const tokens = await login()
    assert.equal((await online.verify(tokens.access_token)).subject, (await offline.verify(tokens.access_token)).subject)

    const revoked = await request(`${server.url}/oauth/revoke`, { form: { token: tokens.refresh_token }, basic: app })
    assert.equal(revoked.status, 200)
    // Documented: an offline verifier sees an ended grant's JWT until it expires.
    assert.equal((await offline.verify(tokens.access_token)).format, 'jwt')
    const refusal = await online.verify(tokens.access_token).then(
      () => assert.fail('expected a refusal'),
      (error: unknown) => error,
    )
    assert.ok(refusal instanceof BearerTokenError)
    assert.equal(refusal.code, 'invalid_token')
  })

  it('needs the introspection settings', () => {
    assert.throws(() => createVerifier({ issuer: server.url, audience: server.url, checkRevocation: true }), /checkRevocation needs the introspection settings/)
  })
})
