import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ManualClock } from '../../src/core/clock.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { assertionFields, clientKey, signAssertion, type ClientKey } from '../helpers/assertions.js'

/**
 * private_key_jwt clients that publish their keys at a `jwks_uri`, served here by a node:http
 * server the test controls: keys are fetched once and cached, a rotation (an unknown `kid`)
 * fetches again at most once a minute, and a URL that redirects, hangs, answers too much, or
 * serves a private key makes the assertion fail fast, never a 5xx, never a second fetch soon.
 */

const REFUSED = { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } }

describe('private_key_jwt with a jwks_uri', () => {
  let keys: Server
  let keysUrl: string
  const hits = new Map<string, number>()
  let served: { keys: unknown[] } = { keys: [] }
  const hung: ServerResponse[] = []

  let clock: ManualClock
  let server: TestServer
  let first: ClientKey
  let second: ClientKey
  let third: ClientKey
  let clientId: string

  const token = (assertion: string): Promise<HttpAnswer> => request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(assertion) } })
  const signed = (key: ClientKey, id = clientId): Promise<string> => signAssertion(key, { clientId: id, audience: server.url, now: Math.floor(clock.now() / 1000) })
  const answer = (response: HttpAnswer) => ({ status: response.status, body: response.body })
  const hitsOf = (path: string): number => hits.get(path) ?? 0

  before(async () => {
    ;[first, second, third] = await Promise.all([clientKey('ES256', 'key-1'), clientKey('EdDSA', 'key-2'), clientKey('RS256', 'key-3')])
    served = { keys: [first.publicJwk] }
    keys = createServer((req, res) => {
      const path = req.url ?? ''
      hits.set(path, hitsOf(path) + 1)
      const json = (body: unknown): void => {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' })
        res.end(JSON.stringify(body))
      }
      if (path === '/jwks') return json(served)
      if (path === '/redirect') {
        res.writeHead(302, { location: '/jwks' })
        return res.end()
      }
      if (path === '/hang') return void hung.push(res)
      if (path === '/huge') return json({ keys: [first.publicJwk], padding: 'x'.repeat(200 * 1024) })
      if (path === '/not-json') {
        res.writeHead(200, { 'content-type': 'application/json' })
        return res.end('<html>keys</html>')
      }
      if (path === '/private') return json({ keys: [{ ...first.publicJwk, d: 'AAAA' }] })
      res.writeHead(500)
      res.end()
    })
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve))
    keysUrl = `http://127.0.0.1:${(keys.address() as AddressInfo).port}`
    clock = new ManualClock(Date.now())
    server = await startTestServer({ clock, env: { GATEHOUSE_RATE_LIMIT_FAILURES: '100000/1m' } })
    clientId = (await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `${keysUrl}/jwks`, grantTypes: ['client_credentials'] })).id
  })
  after(async () => {
    await server.close()
    for (const res of hung) res.destroy()
    keys.closeAllConnections()
    await new Promise((resolve) => keys.close(resolve))
  })

  it('fetches the jwks_uri once and checks later assertions against the cached keys', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await token(await signed(first))).status, 200)
    assert.equal(hitsOf('/jwks'), 1)
    // Past the cache lifetime (5 minutes) the set is fetched again.
    clock.advance(5 * 60_000 + 1)
    assert.equal((await token(await signed(first))).status, 200)
    assert.equal(hitsOf('/jwks'), 2)
  })

  it('fetches again for a rotated key (an unknown kid), at most once a minute however many assertions come', async () => {
    served = { keys: [second.publicJwk] }
    const before = hitsOf('/jwks')
    // The client rotated to key-2: its first assertion with it makes the one refetch, and passes.
    assert.equal((await token(await signed(second))).status, 200)
    assert.equal(hitsOf('/jwks'), before + 1)
    // The retired key is gone from the set.
    assert.deepEqual(answer(await token(await signed(first))), REFUSED)
    // Another unknown kid within the minute, and a flood of them: no further fetch.
    served = { keys: [second.publicJwk, third.publicJwk] }
    for (let i = 0; i < 20; i++) assert.deepEqual(answer(await token(await signAssertion(third, { clientId, audience: server.url, now: Math.floor(clock.now() / 1000), header: { kid: `flood-${i}` } }))), REFUSED)
    assert.deepEqual(answer(await token(await signed(third))), REFUSED)
    assert.equal(hitsOf('/jwks'), before + 1)
    // A minute on, the unknown key-3 makes one more fetch, which finds it.
    clock.advance(60_001)
    assert.equal((await token(await signed(third))).status, 200)
    assert.equal(hitsOf('/jwks'), before + 2)
    assert.equal((await token(await signed(second))).status, 200)
    assert.equal(hitsOf('/jwks'), before + 2)
  })

  it('refuses assertions when the jwks_uri redirects, hangs, answers too much, is not JSON, serves a private key or fails; retries a failed URL only after a minute', async () => {
    for (const path of ['/redirect', '/hang', '/huge', '/not-json', '/private', '/error']) {
      const id = (await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `${keysUrl}${path}`, grantTypes: ['client_credentials'] })).id
      const started = Date.now()
      assert.deepEqual(answer(await token(await signed(first, id))), REFUSED, path)
      const took = Date.now() - started
      assert.ok(took < 4500, `${path} took ${took} ms (the fetch timeout is 3 s)`)
      // Refused again at once, without a second fetch: a failed URL is left alone for a minute.
      assert.deepEqual(answer(await token(await signed(first, id))), REFUSED, `${path} again`)
      assert.equal(hitsOf(path), 1, `${path} fetched once`)
    }
    // The redirect was not followed.
    assert.match(server.logs.text, /HTTP 302 \(redirects are not followed\)/)
    assert.match(server.logs.text, /did not answer within 3000 ms/)
    assert.match(server.logs.text, /larger than 65536 bytes/)
    assert.match(server.logs.text, /private key material/)
  })
})

describe('private_key_jwt jwks_uri in production', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer({ env: { NODE_ENV: 'production', GATEHOUSE_ISSUER: 'https://auth.example.test', GATEHOUSE_REQUIRE_TLS: 'false', GATEHOUSE_RATE_LIMIT_FAILURES: '100000/1m' } })
  })
  after(() => server.close())

  it('takes only an https jwks_uri, and never fetches one on a loopback or private address', async () => {
    await assert.rejects(
      server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://keys.example.com/jwks', grantTypes: ['client_credentials'] }),
      { name: 'ClientValidationError', message: 'jwks_uri must be an https URL in production (got http)' },
    )
    const key = await clientKey('ES256', 'k')
    for (const host of ['127.0.0.1', '10.1.2.3', '[::1]', '169.254.169.254', 'localhost']) {
      const id = (await server.createClient({ tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `https://${host}:9/jwks`, grantTypes: ['client_credentials'] })).id
      const assertion = await signAssertion(key, { clientId: id, audience: 'https://auth.example.test' })
      const refused = await request(`${server.url}/oauth/token`, { form: { grant_type: 'client_credentials', ...assertionFields(assertion) } })
      assert.deepEqual(answer(refused), REFUSED, host)
    }
    assert.match(server.logs.text, /non-public address/)
  })

  const answer = (response: HttpAnswer) => ({ status: response.status, body: response.body })
})
