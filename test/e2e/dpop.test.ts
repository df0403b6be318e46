import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import * as oauth from 'oauth4webapi'
import { DEVICE_CODE_GRANT } from '../../src/core/types.js'
import { approveDevice } from '../helpers/device.js'
import { dpopKey, unsignedProof, type DpopTestKey } from '../helpers/dpop.js'
import { jwtPayload, request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/**
 * RFC 9449 (DPoP) against the real server: proofs at /oauth/token bind the tokens, resources
 * (UserInfo, the management API) take `Authorization: DPoP` with a proof, and every attacker
 * request gets its exact refusal. oauth4webapi plays the client where it can.
 */
const PASSWORD = 'correct horse battery staple'

describe('DPoP (RFC 9449) at the token endpoint and the resources', () => {
  let server: TestServer
  let tokenUrl: string
  let confidential: { id: string; secret: string }
  let ann: { id: string }

  before(async () => {
    server = await startTestServer()
    tokenUrl = `${server.url}/oauth/token`
    confidential = await server.createClient({ grantTypes: ['client_credentials', 'password', 'refresh_token'], scopes: ['api', 'openid', 'profile'] })
    ann = await server.createUser('ann@example.com', PASSWORD, 'Ann')
    await server.server.gatehouse.operators.put('client', confidential.id, 'admin')
  })
  after(async () => server?.close())

  const form = (extra: Record<string, string>, client = confidential): Record<string, string> => ({ client_id: client.id, client_secret: client.secret, ...extra })
  const tokenRequest = async (key: DpopTestKey | undefined, fields: Record<string, string>, proofInput: Partial<Parameters<DpopTestKey['proof']>[0]> = {}) => {
    const headers: Record<string, string> = key ? { dpop: await key.proof({ htm: 'POST', htu: tokenUrl, ...proofInput }) } : {}
    return request(tokenUrl, { form: fields, headers })
  }

  test('a proof at /oauth/token binds the JWT access token (cnf.jkt), answers token_type DPoP, and introspection says cnf.jkt (RFC 9449 §5, §6)', async () => {
    const key = await dpopKey()
    const answer = await tokenRequest(key, form({ grant_type: 'client_credentials', scope: 'api' }))
    assert.equal(answer.status, 200, answer.text)
    const body = answer.body as { access_token: string; token_type: string }
    assert.equal(body.token_type, 'DPoP')
    const jkt = await calculateJwkThumbprint(key.publicJwk, 'sha256')
    assert.deepEqual(jwtPayload(body.access_token).cnf, { jkt })
    const introspection = await request(`${server.url}/oauth/introspect`, { form: form({ token: body.access_token }) })
    assert.deepEqual({ ...(introspection.body as object), exp: 0, iat: 0, jti: '' }, { active: true, scope: 'api', client_id: confidential.id, sub: confidential.id, aud: server.config.issuer, iss: server.config.issuer, exp: 0, iat: 0, jti: '', token_type: 'DPoP', cnf: { jkt } })
  })

  test('an opaque token is bound by its stored jkt, which introspection returns as cnf.jkt (RFC 9449 §6.2)', async () => {
    const opaque = await server.createClient({ tokenFormat: 'opaque' })
    const key = await dpopKey('EdDSA')
    const answer = await tokenRequest(key, form({ grant_type: 'client_credentials', scope: 'api' }, opaque))
    assert.equal(answer.status, 200, answer.text)
    const token = (answer.body as { access_token: string }).access_token
    const introspection = (await request(`${server.url}/oauth/introspect`, { form: form({ token }, opaque) })).body as Record<string, unknown>
    assert.deepEqual([introspection.active, introspection.token_type, introspection.cnf], [true, 'DPoP', { jkt: await calculateJwkThumbprint(key.publicJwk, 'sha256') }])
  })

  test('without a proof the token is a bearer token, as before', async () => {
    const answer = await tokenRequest(undefined, form({ grant_type: 'client_credentials', scope: 'api' }))
    assert.equal((answer.body as { token_type: string }).token_type, 'Bearer')
    assert.equal(jwtPayload((answer.body as { access_token: string }).access_token).cnf, undefined)
  })

  test('the discovery document lists dpop_signing_alg_values_supported', async () => {
    const metadata = (await request(`${server.url}/.well-known/oauth-authorization-server`)).body as Record<string, unknown>
    assert.deepEqual(metadata.dpop_signing_alg_values_supported, ['ES256', 'RS256', 'PS256', 'EdDSA'])
  })

  test('bad proofs at /oauth/token are 400 invalid_dpop_proof, and none is a 5xx', async () => {
    const key = await dpopKey()
    const fields = form({ grant_type: 'client_credentials', scope: 'api' })
    const now = Math.floor(Date.now() / 1000)
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const cases: [string, Promise<string> | string][] = [
      ['wrong htm', key.proof({ htm: 'GET', htu: tokenUrl })],
      ['wrong htu', key.proof({ htm: 'POST', htu: `${server.url}/connect/token` })],
      ['old iat', key.proof({ htm: 'POST', htu: tokenUrl, iat: now - 300 })],
      ['future iat', key.proof({ htm: 'POST', htu: tokenUrl, iat: now + 300 })],
      ['alg none', unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { htm: 'POST', htu: tokenUrl, iat: now, jti: 'x' })],
      ['a private key', key.proof({ htm: 'POST', htu: tokenUrl, header: { jwk: await exportJWK(privateKey) } })],
      ['garbage', 'not a jwt'],
    ]
    for (const [name, proof] of cases) {
      const answer = await request(tokenUrl, { form: fields, headers: { dpop: await proof } })
      assert.equal(answer.status, 400, name)
      assert.equal((answer.body as { error: string }).error, 'invalid_dpop_proof', name)
    }
  })

  test('a replayed proof is refused at the token endpoint (RFC 9449 §11.1)', async () => {
    const key = await dpopKey()
    const proof = await key.proof({ htm: 'POST', htu: tokenUrl })
    const fields = form({ grant_type: 'client_credentials', scope: 'api' })
    assert.equal((await request(tokenUrl, { form: fields, headers: { dpop: proof } })).status, 200)
    const replay = await request(tokenUrl, { form: fields, headers: { dpop: proof } })
    assert.deepEqual([replay.status, replay.body], [400, { error: 'invalid_dpop_proof', error_description: 'The DPoP proof has been used before.' }])
  })

  test('a client with requireDpop refuses a request without a proof: invalid_dpop_proof (RFC 9449 §5)', async () => {
    const strict = await server.createClient({ requireDpop: true })
    const answer = await tokenRequest(undefined, form({ grant_type: 'client_credentials', scope: 'api' }, strict))
    assert.deepEqual([answer.status, answer.body], [400, { error: 'invalid_dpop_proof', error_description: 'This client must send a DPoP proof.' }])
    assert.equal((await tokenRequest(await dpopKey(), form({ grant_type: 'client_credentials', scope: 'api' }, strict))).status, 200)
  })

  test('oauth4webapi: a DPoP-bound client_credentials token and a DPoP-bound refresh flow (password grant, confidential client)', async () => {
    const as = await oauth.processDiscoveryResponse(new URL(server.config.issuer), await oauth.discoveryRequest(new URL(server.config.issuer), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }))
    const client: oauth.Client = { client_id: confidential.id }
    const auth = oauth.ClientSecretPost(confidential.secret)
    const keyPair = await oauth.generateKeyPair('ES256')
    const dpop = oauth.DPoP(client, keyPair)
    const options = { DPoP: dpop, [oauth.allowInsecureRequests]: true }
    const issued = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: 'api' }), options))
    assert.equal(issued.token_type, 'dpop')
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256')
    assert.deepEqual(jwtPayload(issued.access_token).cnf, { jkt })

    const password = await request(tokenUrl, {
      form: form({ grant_type: 'password', username: 'ann@example.com', password: PASSWORD, scope: 'openid profile' }),
      headers: { dpop: await (await dpopKeyFrom(keyPair)).proof({ htm: 'POST', htu: tokenUrl }) },
    })
    assert.equal(password.status, 200, password.text)
    const refreshToken = (password.body as { refresh_token: string }).refresh_token
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, options))
    assert.equal(refreshed.token_type, 'dpop')
    assert.deepEqual(jwtPayload(refreshed.access_token).cnf, { jkt })
    // The bound token at UserInfo, through oauth4webapi's protected-resource request with its proof.
    const userinfo = await oauth.protectedResourceRequest(refreshed.access_token, 'GET', new URL(`${server.url}/oauth/userinfo`), undefined, undefined, options)
    assert.equal(userinfo.status, 200)
    assert.deepEqual(await userinfo.json(), { sub: ann.id, name: 'Ann' })
  })

  describe('a public client: refresh tokens bound to the proof key (RFC 9449 §5)', () => {
    let publicId: string
    let refreshToken: string
    let key: DpopTestKey

    before(async () => {
      const { client } = await server.server.gatehouse.clients.create({ name: 'TV', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scopes: ['openid', 'profile'] })
      publicId = client.id
      const device = (await request(`${server.url}/oauth/device_authorization`, { form: { client_id: publicId, scope: 'openid profile' } })).body as { device_code: string; user_code: string }
      await approveDevice(server.url, device.user_code, { username: 'ann@example.com', password: PASSWORD })
      key = await dpopKey()
      const answer = await tokenRequest(key, { grant_type: DEVICE_CODE_GRANT, device_code: device.device_code, client_id: publicId })
      assert.equal(answer.status, 200, answer.text)
      assert.equal((answer.body as { token_type: string }).token_type, 'DPoP')
      refreshToken = (answer.body as { refresh_token: string }).refresh_token
    })

    test('a refresh without a proof is invalid_dpop_proof; with another key\'s proof invalid_grant; with the key\'s own it works', async () => {
      const fields = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: publicId }
      const none = await tokenRequest(undefined, fields)
      assert.deepEqual([none.status, (none.body as { error: string }).error], [400, 'invalid_dpop_proof'])
      const other = await tokenRequest(await dpopKey(), fields)
      assert.deepEqual([other.status, (other.body as { error: string }).error], [400, 'invalid_grant'])
      const own = await tokenRequest(key, fields)
      assert.equal(own.status, 200, own.text)
      assert.equal((own.body as { token_type: string }).token_type, 'DPoP')
    })
  })

  describe('resources: /oauth/userinfo, /connect/userinfo and the management API (RFC 9449 §7)', () => {
    let key: DpopTestKey
    let userToken: string
    let adminToken: string
    const ALGS = 'algs="ES256 RS256 PS256 EdDSA"'

    before(async () => {
      key = await dpopKey()
      const user = await tokenRequest(key, form({ grant_type: 'password', username: 'ann@example.com', password: PASSWORD, scope: 'openid profile' }))
      userToken = (user.body as { access_token: string }).access_token
      const admin = await tokenRequest(key, form({ grant_type: 'client_credentials', audience: `${server.config.issuer}/admin/v1` }))
      assert.equal(admin.status, 200, admin.text)
      adminToken = (admin.body as { access_token: string }).access_token
    })

    const present = async (url: string, token: string, proofKey: DpopTestKey | undefined, proof: Partial<Parameters<DpopTestKey['proof']>[0]> = {}, scheme = 'DPoP') =>
      request(url, { headers: { authorization: `${scheme} ${token}`, ...(proofKey ? { dpop: await proofKey.proof({ htm: 'GET', htu: url, accessToken: token, ...proof }) } : {}) } })

    for (const path of ['/oauth/userinfo', '/connect/userinfo']) {
      test(`${path}: the bound token with its proof is served; each attacker request is refused with the exact answer`, async () => {
        const url = server.url + path
        const ok = await present(url, userToken, key)
        assert.deepEqual([ok.status, ok.body], [200, { sub: ann.id, name: 'Ann' }])
        const refusal = async (answer: Awaited<ReturnType<typeof present>>) => [answer.status, answer.headers.get('www-authenticate'), answer.body]
        const bearer = await present(url, userToken, undefined, {}, 'Bearer')
        const boundAsBearer = 'This access token is DPoP-bound: present it with the DPoP scheme and a proof.'
        assert.deepEqual(await refusal(bearer), [401, `DPoP error="invalid_token", error_description="${boundAsBearer}", ${ALGS}`, { error: 'invalid_token', error_description: boundAsBearer }])
        const other = await present(url, userToken, await dpopKey())
        assert.deepEqual(await refusal(other), [401, `DPoP error="invalid_token", error_description="Invalid DPoP key binding.", ${ALGS}`, { error: 'invalid_token', error_description: 'Invalid DPoP key binding.' }])
        const proofRefusal = (text: string) => [401, `DPoP error="invalid_dpop_proof", error_description="${text}", ${ALGS}`, { error: 'invalid_dpop_proof', error_description: text }]
        assert.deepEqual(await refusal(await present(url, userToken, key, { accessToken: 'another token' })), proofRefusal('The DPoP proof ath does not match the access token.'))
        assert.deepEqual(await refusal(await present(url, userToken, key, { htu: `${server.url}/elsewhere` })), proofRefusal('The DPoP proof htu does not match the request URL.'))
        assert.deepEqual(await refusal(await present(url, userToken, key, { htm: 'POST' })), proofRefusal('The DPoP proof htm does not match the request method.'))
        assert.deepEqual(await refusal(await present(url, userToken, key, { iat: Math.floor(Date.now() / 1000) - 3600 })), proofRefusal('The DPoP proof iat is outside the acceptable window.'))
        const none = await request(url, { headers: { authorization: `DPoP ${userToken}`, dpop: unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, { htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), jti: 'n' }) } })
        assert.deepEqual(await refusal(none), proofRefusal('The DPoP proof algorithm must be one of ES256, RS256, PS256, EdDSA.'))
        const { privateKey } = await generateKeyPair('ES256', { extractable: true })
        assert.deepEqual(await refusal(await present(url, userToken, key, { header: { jwk: await exportJWK(privateKey) } })), proofRefusal('The DPoP proof jwk must be a public key; it carries private members.'))
        assert.deepEqual(await refusal(await request(url, { headers: { authorization: `DPoP ${userToken}` } })), proofRefusal('A DPoP proof is required with the DPoP scheme.'))
        // A replayed proof (same jti) at the resource.
        const proof = await key.proof({ htm: 'GET', htu: url, accessToken: userToken })
        assert.equal((await request(url, { headers: { authorization: `DPoP ${userToken}`, dpop: proof } })).status, 200)
        assert.deepEqual(await refusal(await request(url, { headers: { authorization: `DPoP ${userToken}`, dpop: proof } })), proofRefusal('The DPoP proof has been used before.'))
      })
    }

    test('the management API takes a DPoP-bound operator token with its proof, and refuses it as Bearer', async () => {
      const url = `${server.url}/admin/v1/clients`
      const ok = await present(url, adminToken, key)
      assert.equal(ok.status, 200, ok.text)
      const bearer = await present(url, adminToken, undefined, {}, 'Bearer')
      assert.equal(bearer.status, 401)
      assert.equal(bearer.headers.get('www-authenticate'), `DPoP realm="gatehouse", error="invalid_token", error_description="This access token is DPoP-bound: present it with the DPoP scheme and a proof.", ${ALGS}`)
      const wrongAth = await present(url, adminToken, key, { accessToken: 'x' })
      assert.equal(wrongAth.status, 401)
      assert.equal(wrongAth.headers.get('www-authenticate'), `DPoP realm="gatehouse", error="invalid_dpop_proof", error_description="The DPoP proof ath does not match the access token.", ${ALGS}`)
      const other = await present(url, adminToken, await dpopKey())
      assert.equal(other.headers.get('www-authenticate'), `DPoP realm="gatehouse", error="invalid_token", error_description="Invalid DPoP key binding.", ${ALGS}`)
    })
  })
})

describe('DPoP server nonces (RFC 9449 §8): GATEHOUSE_DPOP_NONCE=required', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ env: { GATEHOUSE_DPOP_NONCE: 'required' } })
  })
  after(async () => server?.close())

  test('a proof without the nonce is 400 use_dpop_nonce with a DPoP-Nonce header; oauth4webapi retries with it and gets a bound token', async () => {
    const client = await server.createClient()
    const tokenUrl = `${server.url}/oauth/token`
    const key = await dpopKey()
    const first = await request(tokenUrl, { form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }, headers: { dpop: await key.proof({ htm: 'POST', htu: tokenUrl }) } })
    assert.deepEqual([first.status, first.body], [400, { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof.' }])
    assert.match(first.headers.get('dpop-nonce') ?? '', /^[0-9a-z]+\.[A-Za-z0-9_-]+$/)

    const as = await oauth.processDiscoveryResponse(new URL(server.config.issuer), await oauth.discoveryRequest(new URL(server.config.issuer), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }))
    const oauthClient: oauth.Client = { client_id: client.id }
    const dpop = oauth.DPoP(oauthClient, await oauth.generateKeyPair('ES256'))
    const options = { DPoP: dpop, [oauth.allowInsecureRequests]: true }
    const grant = () => oauth.clientCredentialsGrantRequest(as, oauthClient, oauth.ClientSecretPost(client.secret), new URLSearchParams(), options)
    let issued: oauth.TokenEndpointResponse
    try {
      issued = await oauth.processClientCredentialsResponse(as, oauthClient, await grant())
      assert.fail('the first request had no nonce')
    } catch (error) {
      assert.ok(oauth.isDPoPNonceError(error))
      issued = await oauth.processClientCredentialsResponse(as, oauthClient, await grant())
    }
    assert.equal(issued.token_type, 'dpop')
  })
})

async function dpopKeyFrom(keyPair: CryptoKeyPair): Promise<DpopTestKey> {
  const { SignJWT } = await import('jose')
  const publicJwk = await exportJWK(keyPair.publicKey)
  const { createHash, randomUUID } = await import('node:crypto')
  return {
    publicJwk,
    privateKey: keyPair.privateKey,
    async proof(input) {
      const claims: Record<string, unknown> = { htm: input.htm, htu: input.htu, jti: randomUUID(), iat: Math.floor(Date.now() / 1000) }
      if (input.accessToken !== undefined) claims.ath = createHash('sha256').update(input.accessToken).digest('base64url')
      return new SignJWT(claims).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk }).sign(keyPair.privateKey)
    },
  }
}
