import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { calculateJwkThumbprint } from 'jose'
import { dpopKey } from '../helpers/dpop.js'
import { jwtPayload, request } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** RFC 9449 at the IdentityServer dialect's /connect/token: the `DPoP` header is read as at /oauth/token. */
const PASSWORD = 'correct horse battery staple'

for (const nonce of [false, true]) {
  describe(`DPoP at /connect/token${nonce ? ' (GATEHOUSE_DPOP_NONCE=required)' : ''}`, () => {
    let server: TestServer
    let client: { id: string; secret: string }
    let connectToken: string

    before(async () => {
      server = await startTestServer(nonce ? { env: { GATEHOUSE_DPOP_NONCE: 'required' } } : {})
      client = await server.createClient({ grantTypes: ['client_credentials', 'password'], scopes: ['api', 'openid', 'profile'] })
      await server.createUser('ann@example.com', PASSWORD, 'Ann')
      connectToken = `${server.config.issuer}/connect/token`
    })
    after(async () => server?.close())

    const form = (extra: Record<string, string>): Record<string, string> => ({ client_id: client.id, client_secret: client.secret, ...extra })

    test('a proof binds the token (token_type DPoP, cnf.jkt), which /connect/userinfo takes with its proof', async () => {
      const key = await dpopKey()
      const fields = form({ grant_type: 'password', username: 'ann@example.com', password: PASSWORD, scope: 'openid profile' })
      let answer = await request(`${server.url}/connect/token`, { form: fields, headers: { dpop: await key.proof({ htm: 'POST', htu: connectToken }) } })
      if (nonce) {
        assert.deepEqual([answer.status, (answer.body as { error: string }).error], [400, 'use_dpop_nonce'])
        const given = answer.headers.get('dpop-nonce')
        assert.ok(given)
        answer = await request(`${server.url}/connect/token`, { form: fields, headers: { dpop: await key.proof({ htm: 'POST', htu: connectToken, nonce: given }) } })
      }
      assert.equal(answer.status, 200, answer.text)
      const body = answer.body as { access_token: string; token_type: string }
      assert.equal(body.token_type, 'DPoP')
      assert.deepEqual(jwtPayload(body.access_token).cnf, { jkt: await calculateJwkThumbprint(key.publicJwk, 'sha256') })
      const userinfoUrl = `${server.config.issuer}/connect/userinfo`
      const userinfo = await request(`${server.url}/connect/userinfo`, { headers: { authorization: `DPoP ${body.access_token}`, dpop: await key.proof({ htm: 'GET', htu: userinfoUrl, accessToken: body.access_token }) } })
      assert.equal(userinfo.status, 200, userinfo.text)
      assert.equal(((userinfo.body as { name: string }).name), 'Ann')
    })

    test('bad proofs are 400 invalid_dpop_proof: another endpoint\'s htu, a replay; no proof is a bearer token', async () => {
      const key = await dpopKey()
      const fields = form({ grant_type: 'client_credentials', scope: 'api' })
      const wrong = await request(`${server.url}/connect/token`, { form: fields, headers: { dpop: await key.proof({ htm: 'POST', htu: `${server.config.issuer}/oauth/token` }) } })
      assert.deepEqual([wrong.status, wrong.body], [400, { error: 'invalid_dpop_proof', error_description: 'The DPoP proof htu does not match the request URL.' }])
      const bare = await request(`${server.url}/connect/token`, { form: fields })
      assert.equal((bare.body as { token_type: string }).token_type, 'Bearer')
      if (!nonce) {
        const proof = await key.proof({ htm: 'POST', htu: connectToken })
        assert.equal((await request(`${server.url}/connect/token`, { form: fields, headers: { dpop: proof } })).status, 200)
        const replay = await request(`${server.url}/connect/token`, { form: fields, headers: { dpop: proof } })
        assert.deepEqual([replay.status, replay.body], [400, { error: 'invalid_dpop_proof', error_description: 'The DPoP proof has been used before.' }])
      }
    })

    test('a requireDpop client is refused at /connect/token without a proof', async () => {
      const strict = await server.createClient({ requireDpop: true })
      const answer = await request(`${server.url}/connect/token`, { form: { grant_type: 'client_credentials', client_id: strict.id, client_secret: strict.secret } })
      assert.deepEqual([answer.status, answer.body], [400, { error: 'invalid_dpop_proof', error_description: 'This client must send a DPoP proof.' }])
    })
  })
}
