import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as oidc from 'openid-client'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** A widely used, strict client library, pointed at the running server. */
describe('openid-client against Gatehouse', () => {
  let server: TestServer
  let config: oidc.Configuration
  let clientId: string

  before(async () => {
    server = await startTestServer()
    const client = await server.createClient({ scopes: ['api', 'read'] })
    clientId = client.id
    await server.createUser('dee@example.com', 'dees password')
    config = await oidc.discovery(new URL(server.url), client.id, undefined, oidc.ClientSecretBasic(client.secret), {
      execute: [oidc.allowInsecureRequests],
    })
  })
  after(() => server.close())

  it('discovers the server metadata', () => {
    const metadata = config.serverMetadata()
    assert.equal(metadata.issuer, server.url)
    assert.equal(metadata.token_endpoint, `${server.url}/oauth/token`)
  })

  it('gets a token with client_credentials and introspects it', async () => {
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api' })
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.scope, 'api')
    assert.equal(typeof tokens.expiresIn(), 'number')
    const introspection = await oidc.tokenIntrospection(config, tokens.access_token)
    assert.equal(introspection.active, true)
    assert.equal(introspection.client_id, clientId)
  })

  it('refreshes a password-grant token, then revokes the refresh token', async () => {
    const tokens = await oidc.genericGrantRequest(config, 'password', { username: 'dee@example.com', password: 'dees password', scope: 'api read' })
    assert.ok(tokens.refresh_token)
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
    assert.ok(refreshed.refresh_token)
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token)
    await oidc.tokenRevocation(config, refreshed.refresh_token)
    const introspection = await oidc.tokenIntrospection(config, refreshed.refresh_token)
    assert.equal(introspection.active, false)
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token), (error: unknown) => {
      assert.ok(error instanceof oidc.ResponseBodyError)
      assert.equal(error.error, 'invalid_grant')
      assert.equal(error.status, 400)
      return true
    })
  })
})
