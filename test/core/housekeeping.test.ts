import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../src/core/clock.js'
import { Housekeeping } from '../../src/core/housekeeping.js'
import { digestSecret } from '../../src/core/credentials/secrets.js'
import { refreshTokenKey } from '../../src/core/tokens/refresh-token-format.js'
import { request } from '../helpers/http.js'
import { startTestServer } from '../helpers/server.js'

test('housekeeping deletes batch after batch until nothing expired is left', async () => {
  const calls: { now: number; limit: number }[] = []
  const remaining = [5, 5, 2, 0]
  const store = {
    async deleteExpired(now: number, limit: number) {
      calls.push({ now, limit })
      return remaining.shift() ?? 0
    },
  }
  const housekeeping = new Housekeeping({ store, clock: new ManualClock(1000) }, { intervalMs: 0, batchSize: 5 })
  assert.equal(await housekeeping.runOnce(), 12)
  assert.deepEqual(calls, [
    { now: 1000, limit: 5 },
    { now: 1000, limit: 5 },
    { now: 1000, limit: 5 },
    { now: 1000, limit: 5 },
  ])
})

test('housekeeping stops a run after its batch cap and never runs twice at once', async () => {
  let calls = 0
  const store = {
    async deleteExpired() {
      calls++
      return 10
    },
  }
  const housekeeping = new Housekeeping({ store, clock: new ManualClock() }, { intervalMs: 0, batchSize: 10, maxBatchesPerRun: 3 })
  const [first, second] = await Promise.all([housekeeping.runOnce(), housekeeping.runOnce()])
  assert.deepEqual({ first, second, calls }, { first: 30, second: 30, calls: 3 })
})

test('housekeeping on a running server deletes expired opaque tokens, refresh tokens and grants, and only those', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1))
  // The interval is off: the test runs housekeeping itself instead of waiting for a timer.
  const server = await startTestServer({ clock, env: { GATEHOUSE_HOUSEKEEPING_INTERVAL_MS: '0' } })
  try {
    const client = await server.createClient({ tokenFormat: 'opaque', accessTokenTtl: 60, refreshTokenAbsoluteTtl: 600, refreshTokenSlidingTtl: 300 })
    await server.createUser('ann@example.com', 'correct horse battery staple')
    const token = async () => {
      const answer = await request(`${server.url}/oauth/token`, {
        form: { grant_type: 'password', username: 'ann@example.com', password: 'correct horse battery staple' },
        basic: client,
      })
      assert.equal(answer.status, 200, answer.text)
      return answer.body as { access_token: string; refresh_token: string }
    }
    const old = await token()
    clock.advance(601_000) // past the first family's absolute lifetime
    const fresh = await token()
    const { store, housekeeping } = server.server.gatehouse

    // Access token and refresh token of the old grant; the grant itself stays for the longest
    // access token lifetime (a JWT minted late in its life still names it).
    assert.equal(await housekeeping.runOnce(), 2)
    assert.deepEqual(
      [await store.findOpaqueToken(digestSecret(old.access_token)), await store.findRefreshToken(refreshTokenKey(old.refresh_token))],
      [undefined, undefined],
    )
    assert.notEqual(await store.findOpaqueToken(digestSecret(fresh.access_token)), undefined)
    assert.notEqual(await store.findRefreshToken(refreshTokenKey(fresh.refresh_token)), undefined)
    const introspected = await request(`${server.url}/oauth/introspect`, { form: { token: fresh.access_token }, basic: client })
    assert.equal((introspected.body as { active: boolean }).active, true)
    assert.equal(await housekeeping.runOnce(), 0)
    const freshGrant = (await store.findRefreshToken(refreshTokenKey(fresh.refresh_token)))?.familyId
    assert.ok(freshGrant)

    // Past the grace: the old grant goes, with the fresh grant's expired tokens (not yet its grant).
    clock.advance(server.config.maxAccessTokenTtl * 1000)
    assert.equal(await housekeeping.runOnce(), 3)
    assert.equal((await store.getGrant(freshGrant))?.id, freshGrant)
  } finally {
    await server.close()
  }
})

test('housekeeping on a running server deletes authorization codes, pushed requests, device authorizations and sign-in sessions at their expiry, without the grants grace', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1))
  const server = await startTestServer({ clock, env: { GATEHOUSE_HOUSEKEEPING_INTERVAL_MS: '0' } })
  try {
    const client = await server.createClient()
    const user = await server.createUser('ann@example.com', 'correct horse battery staple')
    const { store, housekeeping } = server.server.gatehouse
    const now = clock.now()
    await store.insertAuthorizationCode({
      digest: 'code-digest',
      clientId: client.id,
      userId: user.id,
      redirectUri: 'https://app.example.com/callback',
      scope: 'openid',
      audience: null,
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      nonce: null,
      sessionId: 'sid-1',
      authTime: now,
      issuedAt: now,
      expiresAt: now + 60_000,
      usedAt: null,
      grantId: null,
    })
    await store.insertPushedRequest({ digest: 'par-digest', clientId: client.id, parameters: { response_type: 'code' }, createdAt: now, expiresAt: now + 60_000, usedAt: null })
    await store.insertDeviceAuthorization({
      deviceCodeDigest: 'device-digest',
      userCodeDigest: 'user-code-digest',
      clientId: client.id,
      scope: 'openid',
      audience: null,
      status: 'pending',
      userId: null,
      sessionId: null,
      authTime: null,
      interval: 5,
      lastPolledAt: null,
      createdAt: now,
      expiresAt: now + 600_000,
      usedAt: null,
      grantId: null,
    })
    const session = { id: 'sid-1', digest: 'session-digest', userId: user.id, authTime: now, createdAt: now, lastSeenAt: now, expiresAt: now + 86_400_000, endedAt: null }
    await store.insertSignInSession(session)
    await store.insertSignInSession({ ...session, id: 'sid-2', digest: 'session-digest-2' })

    // Signing out ends a session: it goes at the next run, the others are live.
    assert.equal(await store.endSignInSessions({ id: 'sid-2' }, now), 1)
    assert.equal(await housekeeping.runOnce(), 1)
    assert.equal(await store.findSignInSession('session-digest-2'), undefined)

    clock.advance(60_001)
    assert.equal(await housekeeping.runOnce(), 2)
    assert.deepEqual([await store.findAuthorizationCode('code-digest'), await store.findPushedRequest('par-digest')], [undefined, undefined])
    assert.notEqual(await store.findDeviceAuthorization('device-digest'), undefined)

    clock.advance(600_000)
    assert.equal(await housekeeping.runOnce(), 1)
    assert.equal(await store.findDeviceAuthorization('device-digest'), undefined)
    assert.deepEqual(await store.findSignInSession('session-digest'), session)

    clock.advance(86_400_000)
    assert.equal(await housekeeping.runOnce(), 1)
    assert.equal(await store.findSignInSession('session-digest'), undefined)
  } finally {
    await server.close()
  }
})
