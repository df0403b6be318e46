import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createPublicKey } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { basicHeader, jwtPayload, request, type HttpAnswer } from '../helpers/http.js'
import { assertionFields, clientKey, JWT_BEARER, signAssertion, type ClientKey } from '../helpers/assertions.js'

/**
 * private_key_jwt (RFC 7523 §2.2, §3; OpenID Connect Core §9) against the real server on a
 * real port: a strict client library's assertions are accepted, and every attacker's variation
 * (replay, another audience, another client, stale or far-future, no jti, alg none, HMAC keyed
 * with the public key, an unregistered key) is refused with one and the same answer.
 */

const REFUSED = { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } }

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('private_key_jwt client authentication', () => {
  let server: TestServer
  let es256: ClientKey
  let rs256: ClientKey
  let ps256: ClientKey
  let eddsa: ClientKey
  let clientId: string
  let secretClient: { id: string; secret: string }

  const token = (fields: Record<string, string>, path = '/oauth/token', headers: Record<string, string> = {}): Promise<HttpAnswer> =>
    request(`${server.url}${path}`, { form: { grant_type: 'client_credentials', ...fields }, headers })
  const answer = (response: HttpAnswer) => ({ status: response.status, body: response.body })
  const assertion = (key: ClientKey = es256, options: { audience?: string | string[]; claims?: Record<string, unknown>; header?: Record<string, unknown>; clientId?: string } = {}) =>
    signAssertion(key, { clientId: options.clientId ?? clientId, audience: options.audience ?? server.url, ...(options.claims ? { claims: options.claims } : {}), ...(options.header ? { header: options.header } : {}) })

  before(async () => {
    // Many refusals in a row here: the failed-attempt throttle (tested below) is set out of the way.
    server = await startTestServer({ env: { GATEHOUSE_RATE_LIMIT_FAILURES: '100000/1m' } })
    ;[es256, rs256, ps256, eddsa] = await Promise.all([clientKey('ES256', 'es-1'), clientKey('RS256', 'rs-1'), clientKey('PS256', 'ps-1'), clientKey('EdDSA', 'ed-1')])
    const created = await server.createClient({
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [es256.publicJwk, rs256.publicJwk, ps256.publicJwk, eddsa.publicJwk] },
      grantTypes: ['client_credentials'],
      scopes: ['api'],
    })
    assert.equal(created.secret, '', 'a private_key_jwt client has no secret')
    clientId = created.id
    secretClient = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
  })
  after(() => server.close())

  it('oauth4webapi PrivateKeyJwt gets a client_credentials token at /oauth/token, and its assertion cannot be replayed', async () => {
    const issuer = new URL(server.url)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }))
    assert.ok(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'))
    let sent: string | undefined
    const capture: typeof fetch = async (url, init) => {
      sent = new URLSearchParams(String(init?.body)).get('client_assertion') ?? undefined
      return fetch(url, init)
    }
    const client: oauth.Client = { client_id: clientId, token_endpoint_auth_method: 'private_key_jwt' }
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: es256.privateKey, kid: es256.kid }), { scope: 'api' }, {
      [oauth.allowInsecureRequests]: true,
      [oauth.customFetch]: capture,
    })
    const tokens = await oauth.processClientCredentialsResponse(as, client, response)
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.scope, 'api')
    assert.deepEqual({ sub: jwtPayload(tokens.access_token).sub, client_id: jwtPayload(tokens.access_token).client_id }, { sub: clientId, client_id: clientId })
    assert.ok(sent, 'the library sent an assertion')
    assert.equal(jwtPayload(sent).aud, server.url)

    // The very assertion the library sent, again: the replay is refused.
    const replayed = await token({ client_id: clientId, ...assertionFields(sent) })
    assert.deepEqual(answer(replayed), REFUSED)
    assert.equal(replayed.headers.get('www-authenticate'), null)
    assert.match(server.logs.text, /assertion replayed/)
    // A credential, even a spent one: never in the logs.
    assert.equal(server.logs.text.includes(sent), false)
    assert.equal(server.logs.text.includes(sent.split('.')[2] ?? 'x'), false)
  })

  it('accepts ES256, RS256, PS256 and EdDSA assertions, with or without client_id in the body', async () => {
    for (const key of [es256, rs256, ps256, eddsa]) {
      const withId = await token({ client_id: clientId, ...assertionFields(await assertion(key)) })
      assert.equal(withId.status, 200, `${key.alg}: ${withId.text}`)
      const withoutId = await token(assertionFields(await assertion(key)))
      assert.equal(withoutId.status, 200, `${key.alg} without client_id: ${withoutId.text}`)
      assert.equal(jwtPayload((withoutId.body as { access_token: string }).access_token).client_id, clientId)
    }
  })

  it('takes aud as the issuer or the URL of the endpoint the request came to, not another endpoint\'s', async () => {
    for (const audience of [server.url, `${server.url}/oauth/token`, [server.url, 'https://elsewhere.example'], [`${server.url}/oauth/token`]]) {
      const accepted = await token(assertionFields(await assertion(es256, { audience })))
      assert.equal(accepted.status, 200, `aud ${JSON.stringify(audience)}: ${accepted.text}`)
    }
    for (const audience of [`${server.url}/oauth/introspect`, `${server.url}/`, 'https://elsewhere.example', `${server.url}/oauth/token?x=1`, ['https://elsewhere.example']]) {
      assert.deepEqual(answer(await token(assertionFields(await assertion(es256, { audience })))), REFUSED, `aud ${JSON.stringify(audience)}`)
    }
  })

  it('refuses every forged, stale or misdirected assertion with one and the same 401 invalid_client', async () => {
    const now = Math.floor(Date.now() / 1000)
    const stranger = await clientKey('ES256', es256.kid)
    const unregistered = await clientKey('ES256', 'es-unknown')
    const payload = { iss: clientId, sub: clientId, aud: server.url, iat: now, exp: now + 60, jti: 'forged-1' }
    // The registered public key's bytes as an HMAC secret, two ways (RFC 8725 §2.1).
    const publicPem = createPublicKey({ key: rs256.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
    const hmac = (secret: string | Buffer, kid: string): string => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(payload)}`
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
    }
    const cases: [string, string][] = [
      ['wrong aud', await assertion(es256, { audience: 'https://other-server.example/oauth/token' })],
      ['wrong iss', await assertion(es256, { claims: { iss: secretClient.id } })],
      ['wrong sub', await assertion(es256, { claims: { sub: secretClient.id } })],
      ['iss and sub another client', await assertion(es256, { clientId: secretClient.id })],
      ['expired', await assertion(es256, { claims: { iat: now - 600, exp: now - 120 } })],
      ['exp too far ahead', await assertion(es256, { claims: { exp: now + 3600 } })],
      ['no exp', await assertion(es256, { claims: { exp: undefined } })],
      ['no jti', await assertion(es256, { claims: { jti: undefined } })],
      ['a jti that is not a string', await assertion(es256, { claims: { jti: 42 } })],
      ['a jti with a control character', await assertion(es256, { claims: { jti: 'a\u0000b' } })],
      ['nbf in the future', await assertion(es256, { claims: { nbf: now + 600 } })],
      ['iat in the future', await assertion(es256, { claims: { iat: now + 600 } })],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`],
      ['HS256 keyed with the public JWK', hmac(JSON.stringify(rs256.publicJwk), rs256.kid)],
      ['HS256 keyed with the public key PEM', hmac(publicPem, rs256.kid)],
      ['signed by a key not registered (same kid)', await assertion(stranger)],
      ['signed by a key not registered (its own kid)', await assertion(unregistered)],
      ['RS256 claimed for the EC key', `${b64({ alg: 'RS256', kid: es256.kid })}.${b64(payload)}.${'A'.repeat(342)}`],
      ['a signature cut short', (await assertion(es256)).slice(0, -10)],
      ['not a JWT at all', 'not-a-jwt'],
      ['a huge header', `${b64({ alg: 'ES256', kid: 'x'.repeat(20_000) })}.${b64(payload)}.AAAA`],
    ]
    for (const [what, forged] of cases) {
      assert.deepEqual(answer(await token(assertionFields(forged))), REFUSED, what)
      assert.deepEqual(answer(await token({ client_id: clientId, ...assertionFields(forged) })), REFUSED, `${what} (with client_id)`)
    }
    // The reasons are logged, never answered.
    for (const reason of [/claim aud refused|aud/, /not allowed/, /more than 300 s ahead/, /jti must be/, /iat is in the future/, /signature does not verify/, /no registered key matches/]) assert.match(server.logs.text, reason)
  })

  it('refuses an assertion for a client that does not use private_key_jwt, and a secret for one that does', async () => {
    // A secret client's id in a perfectly signed assertion: it registered no keys.
    assert.deepEqual(answer(await token(assertionFields(await assertion(es256, { clientId: secretClient.id })))), REFUSED)
    assert.deepEqual(answer(await token(assertionFields(await assertion(es256, { clientId: 'no-such-client' })))), REFUSED)
    // No secret authenticates a private_key_jwt client: not an empty one, not a guess.
    for (const secret of ['', 'guess']) {
      const basic = await token({}, '/oauth/token', { authorization: basicHeader(clientId, secret) })
      assert.equal(basic.status, 401)
      assert.equal((basic.body as { error: string }).error, 'invalid_client')
    }
    const post = await token({ client_id: clientId, client_secret: 'guess' })
    assert.deepEqual(answer(post), REFUSED)
    // Its client_id alone is not a public client's authentication either.
    assert.deepEqual(answer(await token({ client_id: clientId })), { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication is required.' } })
  })

  it('refuses an assertion about another client than the body\'s client_id', async () => {
    const other = await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [es256.publicJwk] }, grantTypes: ['client_credentials'] })
    // Signed with a key both clients registered, about the first, naming the second in the body.
    assert.deepEqual(answer(await token({ client_id: other.id, ...assertionFields(await assertion(es256)) })), REFUSED)
    assert.equal((await token({ client_id: other.id, ...assertionFields(await assertion(es256, { clientId: other.id })) })).status, 200)
  })

  it('answers invalid_request for an assertion sent with Basic or client_secret, or without its type', async () => {
    const signed = await assertion()
    const invalid = (description: string) => ({ status: 400, body: { error: 'invalid_request', error_description: description } })
    const oneMethod = 'Use one client authentication method: Basic, client_secret or client_assertion, not two.'
    assert.deepEqual(answer(await token(assertionFields(signed), '/oauth/token', { authorization: basicHeader(secretClient.id, secretClient.secret) })), invalid(oneMethod))
    assert.deepEqual(answer(await token({ client_id: clientId, client_secret: 'x', ...assertionFields(signed) })), invalid(oneMethod))
    assert.deepEqual(answer(await token({ client_assertion: signed })), invalid('client_assertion was sent without client_assertion_type.'))
    assert.deepEqual(answer(await token({ client_assertion_type: JWT_BEARER })), invalid('client_assertion_type was sent without client_assertion.'))
    assert.deepEqual(
      answer(await token({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: signed })),
      invalid('client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.'),
    )
    // None of these spent the assertion: it still works once.
    assert.equal((await token(assertionFields(signed))).status, 200)
  })

  it('authenticates at /oauth/introspect and /oauth/revoke, with aud the issuer or that endpoint', async () => {
    const issued = await token(assertionFields(await assertion()))
    const accessToken = (issued.body as { access_token: string }).access_token
    for (const audience of [server.url, `${server.url}/oauth/introspect`]) {
      const introspected = await request(`${server.url}/oauth/introspect`, { form: { token: accessToken, ...assertionFields(await assertion(es256, { audience })) } })
      assert.equal(introspected.status, 200, introspected.text)
      assert.deepEqual({ active: (introspected.body as { active: boolean }).active, client_id: (introspected.body as { client_id: string }).client_id }, { active: true, client_id: clientId })
    }
    // The token endpoint's URL is not the introspection endpoint's.
    const misdirected = await request(`${server.url}/oauth/introspect`, { form: { token: accessToken, ...assertionFields(await assertion(es256, { audience: `${server.url}/oauth/token` })) } })
    assert.deepEqual(answer(misdirected), REFUSED)
    const revoked = await request(`${server.url}/oauth/revoke`, { form: { token: accessToken, ...assertionFields(await assertion(es256, { audience: `${server.url}/oauth/revoke` })) } })
    assert.deepEqual({ status: revoked.status, text: revoked.text }, { status: 200, text: '' })
    const replay = await request(`${server.url}/oauth/revoke`, { json: { token: accessToken, ...assertionFields(await assertion()) } })
    assert.equal(replay.status, 200, 'JSON bodies carry assertions too')
  })

  it('authenticates at IdentityServer\'s /connect/token and /connect/introspect and at the wrapped /v1/auth/token', async () => {
    const connect = await token(assertionFields(await assertion(es256, { audience: `${server.url}/connect/token` })), '/connect/token')
    assert.equal(connect.status, 200, connect.text)
    const introspected = await request(`${server.url}/connect/introspect`, { form: { token: (connect.body as { access_token: string }).access_token, ...assertionFields(await assertion(eddsa)) } })
    assert.equal((introspected.body as { active: boolean }).active, true)
    const replayed = assertionFields(await assertion(rs256))
    assert.equal((await token(replayed, '/connect/token')).status, 200)
    // IdentityServer answers every token error with 400.
    assert.deepEqual(answer(await token(replayed, '/connect/token')), { status: 400, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } })

    const wrappedForm = await token(assertionFields(await assertion(es256, { audience: `${server.url}/v1/auth/token` })), '/v1/auth/token')
    assert.equal(wrappedForm.status, 200, wrappedForm.text)
    assert.equal(typeof (wrappedForm.body as { data: { access_token: string } }).data.access_token, 'string')
    const once = assertionFields(await assertion(ps256))
    assert.equal((await request(`${server.url}/v1/auth/token`, { json: { grant_type: 'client_credentials', ...once } })).status, 200)
    const again = await request(`${server.url}/v1/auth/token`, { json: { grant_type: 'client_credentials', ...once } })
    assert.deepEqual(answer(again), { status: 401, body: { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } } })
  })

  it('authenticates a pushed authorization request (RFC 9126), which does not keep the assertion', async () => {
    const browserClient = await server.createClient({
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [eddsa.publicJwk] },
      grantTypes: ['authorization_code'],
      redirectUris: ['https://app.example.com/cb'],
      scopes: ['openid'],
    })
    const pushed = await request(`${server.url}/oauth/par`, {
      form: {
        response_type: 'code',
        client_id: browserClient.id,
        redirect_uri: 'https://app.example.com/cb',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        ...assertionFields(await assertion(eddsa, { clientId: browserClient.id, audience: `${server.url}/oauth/par` })),
      },
    })
    assert.equal(pushed.status, 201, pushed.text)
    const stored = await server.server.gatehouse.store.db.selectFrom('pushed_requests').select('parameters').execute()
    assert.ok(stored.every((row) => !row.parameters.includes('client_assertion')))
  })

  it('publishes private_key_jwt and its algorithms in the metadata', async () => {
    const metadata = (await request(`${server.url}/.well-known/oauth-authorization-server`)).body as Record<string, unknown>
    for (const endpoint of ['token', 'introspection', 'revocation']) {
      assert.ok((metadata[`${endpoint}_endpoint_auth_methods_supported`] as string[]).includes('private_key_jwt'), endpoint)
      assert.deepEqual(metadata[`${endpoint}_endpoint_auth_signing_alg_values_supported`], ['ES256', 'RS256', 'PS256', 'EdDSA'], endpoint)
    }
  })
})

describe('private_key_jwt failures are audited and throttled like wrong secrets', () => {
  let server: TestServer
  let key: ClientKey
  let clientId: string

  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_RATE_LIMIT_FAILURES: '3/1m' } })
    key = await clientKey('ES256', 'k')
    clientId = (await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, grantTypes: ['client_credentials'] })).id
  })
  after(() => server.close())

  it('records each refusal with its reason, and throttles the client id after the limit', async () => {
    const send = async (claims: Record<string, unknown>) =>
      request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(await signAssertion(key, { clientId, audience: server.url, claims })) } })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await send({ aud: 'https://elsewhere.example' })).status)
    assert.deepEqual(statuses, [401, 401, 401, 429, 429])
    // Only failures spend the budget, as for secrets: the client's own good assertion still works.
    assert.equal((await send({})).status, 200)
    await server.server.gatehouse.audit.flush()
    const events = await server.server.gatehouse.audit.list({ limit: 20, target: `client:${clientId}` })
    const failures = events.filter((event) => event.action === 'client.authentication_failed')
    assert.ok(failures.length >= 3, `${failures.length} failures recorded`)
    assert.match(String(failures[0]?.details.reason), /aud/)
    assert.ok(events.every((event) => !JSON.stringify(event).includes('eyJ')), 'no assertion in the audit log')
  })
})
