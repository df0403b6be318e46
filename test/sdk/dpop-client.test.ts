import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose'
import { createTokenClient, TokenClientError } from '../../src/sdk/client.js'
import { createVerifier } from '../../src/sdk/verify.js'
import { jwtPayload } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { closeServer, listen, recordingFetch, startProtectedApps, type ProtectedApps } from './support.js'

/**
 * gatehouse/client with `dpop` (RFC 9449) against the real server: proofs at the token endpoint,
 * `token_type: DPoP`, the nonce retry (GATEHOUSE_DPOP_NONCE=required), and `authFetch` with
 * `Authorization: DPoP` and a fresh proof per request, at the server's UserInfo and behind
 * gatehouse/verify.
 */
const PASSWORD = 'correct horse battery staple'

for (const nonce of [false, true]) {
  describe(`the token client with dpop${nonce ? ' (GATEHOUSE_DPOP_NONCE=required)' : ''}`, () => {
    let server: TestServer
    let apps: ProtectedApps
    let client: { id: string; secret: string }

    before(async () => {
      server = await startTestServer(nonce ? { env: { GATEHOUSE_DPOP_NONCE: 'required' } } : {})
      client = await server.createClient({ grantTypes: ['client_credentials', 'password', 'refresh_token'], scopes: ['api', 'openid', 'profile', 'offline_access'] })
      await server.createUser('ann@example.com', PASSWORD, 'Ann')
      apps = await startProtectedApps(createVerifier({ issuer: server.config.issuer, audience: server.config.issuer }), 'test')
    })
    after(async () => {
      await apps?.close()
      await server?.close()
    })

    it('dpop: true gets a DPoP-bound token (a proof per token request) and authFetch presents it with a fresh proof', async () => {
      const recorder = recordingFetch()
      const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, scope: 'api', dpop: true, fetch: recorder.fetch })
      const token = await tokens.getToken()
      const tokenCalls = recorder.to('/oauth/token')
      assert.equal(tokenCalls.length, nonce ? 2 : 1, 'one retry with the nonce when the server requires one')
      if (nonce) assert.equal(JSON.parse(tokenCalls[0]!.answer!).error, 'use_dpop_nonce')
      const proof = tokenCalls.at(-1)!.headers.get('dpop')!
      const header = decodeProtectedHeader(proof)
      assert.deepEqual([header.typ, header.alg, Object.keys(header.jwk ?? {}).sort()], ['dpop+jwt', 'ES256', ['crv', 'kty', 'x', 'y']])
      assert.equal(decodeJwt(proof).htu, `${server.url}/oauth/token`)
      if (nonce) assert.equal(typeof decodeJwt(proof).nonce, 'string')
      const jkt = await calculateJwkThumbprint(header.jwk as JWK, 'sha256')
      assert.deepEqual(jwtPayload(token).cnf, { jkt })

      for (let i = 0; i < 2; i++) {
        const answer = await tokens.authFetch(`${apps.fastify}/whoami?page=${i}`)
        assert.equal(answer.status, 200, await answer.clone().text())
      }
      const express = await tokens.authFetch(`${apps.express}/whoami`, { method: 'GET' })
      assert.equal(express.status, 200)
      const resourceCalls = recorder.calls.filter((call) => call.url.includes('/whoami'))
      assert.equal(resourceCalls.length, 3)
      const jtis = new Set(resourceCalls.map((call) => decodeJwt(call.headers.get('dpop')!).jti))
      assert.equal(jtis.size, 3, 'a fresh proof per request')
      for (const call of resourceCalls) assert.equal(call.headers.get('authorization'), `DPoP ${token}`)
    })

    it('a given key pair, the password grant, UserInfo on the server, and the refresh with a proof too', async () => {
      const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify'])
      const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey)
      const recorder = recordingFetch()
      const tokens = createTokenClient({
        issuer: server.url,
        dialect: 'standard',
        credentials: { clientId: client.id, clientSecret: client.secret, username: 'ann@example.com', password: PASSWORD },
        scope: 'openid profile offline_access',
        dpop: { privateKey: pair.privateKey, publicJwk },
        fetch: recorder.fetch,
      })
      const first = await tokens.getToken()
      assert.equal(decodeProtectedHeader(recorder.to('/oauth/token').at(-1)!.headers.get('dpop')!).alg, 'RS256')
      const userinfo = await tokens.authFetch(`${server.url}/oauth/userinfo`)
      assert.equal(userinfo.status, 200, await userinfo.clone().text())
      assert.equal(((await userinfo.json()) as { name: string }).name, 'Ann')
      const second = await tokens.renew()
      assert.notEqual(second, first)
      const refresh = recorder.to('/oauth/token').at(-1)!
      assert.equal(new URLSearchParams(refresh.body).get('grant_type'), 'refresh_token')
      assert.ok(refresh.headers.get('dpop'))
      assert.deepEqual(jwtPayload(second).cnf, { jkt: await calculateJwkThumbprint(publicJwk as JWK, 'sha256') })
    })

    it('a stolen token is refused: sent as Bearer without the key', async () => {
      const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, scope: 'api', dpop: true })
      const token = await tokens.getToken()
      const stolen = await fetch(`${apps.fastify}/whoami`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(stolen.status, 401)
      assert.match(stolen.headers.get('www-authenticate') ?? '', /^DPoP /)
    })
  })
}

describe('the token client with dpop: a resource that asks for a nonce, and the dialects', () => {
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    server = await startTestServer()
    client = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
  })
  after(async () => server?.close())

  it('retries once on a resource use_dpop_nonce with its DPoP-Nonce, then keeps using that nonce', async () => {
    const seen: { nonce: unknown; authorization: string | undefined }[] = []
    const resource = createServer((request, response) => {
      const proof = request.headers.dpop
      const nonce = typeof proof === 'string' ? decodeJwt(proof).nonce : undefined
      seen.push({ nonce, authorization: request.headers.authorization })
      if (nonce !== 'n-1') {
        response.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': 'n-1' }).end()
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    const base = await listen(resource)
    try {
      const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, scope: 'api', dpop: true })
      const answer = await tokens.authFetch(`${base}/r`, { method: 'POST', body: '{}' })
      assert.equal(answer.status, 200)
      assert.equal((await tokens.authFetch(`${base}/r`)).status, 200)
      assert.deepEqual(seen.map((entry) => entry.nonce), [undefined, 'n-1', 'n-1'])
      assert.ok(seen.every((entry) => entry.authorization?.startsWith('DPoP ')))
    } finally {
      await closeServer(resource)
    }
  })

  it('a resource that keeps asking is not retried forever: the 401 comes back after one retry', async () => {
    let requests = 0
    let counter = 0
    const resource = createServer((_request, response) => {
      requests++
      response.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': `n-${++counter}` }).end()
    })
    const base = await listen(resource)
    try {
      const tokens = createTokenClient({ issuer: server.url, dialect: 'standard', credentials: { clientId: client.id, clientSecret: client.secret }, scope: 'api', dpop: true })
      assert.equal((await tokens.authFetch(`${base}/r`)).status, 401)
      // One nonce retry, then a new token and one more nonce retry: at most four requests.
      assert.ok(requests <= 4, `${requests} requests`)
    } finally {
      await closeServer(resource)
    }
  })

  it('the canary and wrapped dialects refuse the option; a server answering Bearer leaves authFetch on Bearer', async () => {
    assert.throws(() => createTokenClient({ issuer: server.url, dialect: 'canary', credentials: { apiKey: 'x' }, dpop: true }), TypeError)
    assert.throws(() => createTokenClient({ issuer: server.url, dialect: 'wrapped', credentials: { clientId: 'a', clientSecret: 'b' }, dpop: true }), TypeError)
    const fakeFetch: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/oauth/token')) return new Response(JSON.stringify({ access_token: 'plain-token', token_type: 'Bearer', expires_in: 60 }), { status: 200 })
      return new Response(new Headers(init?.headers).get('authorization'), { status: 200 })
    }
    const tokens = createTokenClient({ issuer: 'https://auth.test', dialect: 'standard', credentials: { clientId: 'a', clientSecret: 'b' }, dpop: true, fetch: fakeFetch })
    assert.equal(await (await tokens.authFetch('https://api.test/r')).text(), 'Bearer plain-token')
    const odd: typeof fetch = async () => new Response(JSON.stringify({ access_token: 't', token_type: 'mac' }), { status: 200 })
    const refused = await createTokenClient({ issuer: 'https://auth.test', dialect: 'standard', credentials: { clientId: 'a', clientSecret: 'b' }, dpop: true, fetch: odd }).getToken().then(
      () => assert.fail('expected a rejection'),
      (error: unknown) => error,
    )
    assert.ok(refused instanceof TokenClientError)
  })
})
