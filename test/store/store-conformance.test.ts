import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ApiKey, Client, User } from '../../src/core/types.js'
import type { Api } from '../../src/core/apis/api-store.js'
import type { KyselyStore } from '../../src/store/kysely-store.js'
import { openStore } from '../../src/store/open-store.js'
import { DuplicateError } from '../../src/core/store-errors.js'
import type { SigningKeyRecord } from '../../src/core/tokens/signing-key-store.js'
import type { GrantRecord, OpaqueTokenRecord, RefreshTokenRecord } from '../../src/core/tokens/token-store.js'
import { createPostgresTestDatabase } from '../helpers/database.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'

/**
 * One suite of the Store interface's written contracts (the ports in src/core, gathered in src/store/types.ts), run against
 * SQLite and PostgreSQL in the same run (STYLE.md §7).
 */

interface FreshDatabase {
  url: string
  drop(): Promise<void>
}

const backends: { kind: 'sqlite' | 'postgres'; skip: string | false; fresh(): Promise<FreshDatabase> }[] = [
  {
    kind: 'sqlite',
    skip: false,
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'))
      return { url: `sqlite:${join(dir, 'store.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  {
    kind: 'postgres',
    skip: await skipWithoutPostgres(),
    fresh: () => createPostgresTestDatabase(POSTGRES_URL),
  },
]

const T0 = 1_800_000_000_000
let sequence = 0
const unique = (prefix: string): string => `${prefix}-${++sequence}-${Math.random().toString(36).slice(2, 8)}`

function aClient(overrides: Partial<Client> = {}): Client {
  return {
    id: unique('client'),
    name: 'conformance client',
    secretDigest: 'a'.repeat(64),
    tokenEndpointAuthMethod: 'client_secret_basic',
    applicationType: null,
    redirectUris: [],
    postLogoutRedirectUris: [],
    requirePar: false,
    skipConsent: false,
    grantTypes: ['client_credentials', 'refresh_token'],
    scopes: ['api', 'read'],
    defaultScopes: ['api'],
    audience: null,
    tokenFormat: 'jwt',
    signingAlg: 'ES256',
    accessTokenTtl: 3600,
    refreshTokenAbsoluteTtl: 86400,
    refreshTokenSlidingTtl: 3600,
    refreshTokenReuseInterval: 0,
    rotateRefreshTokens: true,
    tokensNotBefore: null,
    allowedUsers: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  }
}

function aUser(overrides: Partial<User> = {}): User {
  const id = unique('user')
  return { id, username: `${id}@example.com`, passwordHash: '$argon2id$stub', name: 'Ann', email: null, disabled: false, createdAt: T0, ...overrides }
}

function anApiKey(clientId: string, overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    id: unique('KEY').toUpperCase(),
    name: 'ci key',
    clientId,
    secretDigest: 'b'.repeat(64),
    scopes: ['api'],
    audience: 'https://api.example.com',
    expiresAt: null,
    revokedAt: null,
    createdAt: T0,
    ...overrides,
  }
}

function aGrant(clientId: string, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: unique('grant'),
    clientId,
    subject: 'subject-1',
    subjectType: 'user',
    grantType: 'password',
    scope: 'api read',
    audience: null,
    apiKeyId: null,
    createdAt: T0,
    expiresAt: T0 + 86_400_000,
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  }
}
const aFamily = aGrant

function aRefreshToken(family: GrantRecord, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    digest: unique('rt-digest'),
    familyId: family.id,
    clientId: family.clientId,
    subject: family.subject,
    scope: 'api read',
    audience: null,
    issuedAt: T0,
    expiresAt: T0 + 3_600_000,
    usedAt: null,
    ...overrides,
  }
}

function anOpaqueToken(clientId: string, overrides: Partial<OpaqueTokenRecord> = {}): OpaqueTokenRecord {
  return {
    digest: unique('sk-digest'),
    clientId,
    subject: clientId,
    scope: 'api',
    audience: 'https://api.example.com',
    grantId: null,
    issuedAt: T0,
    expiresAt: T0 + 3_600_000,
    revokedAt: null,
    ...overrides,
  }
}

function anApi(overrides: Partial<Api> = {}): Api {
  const id = unique('api')
  return {
    id,
    identifier: `https://${id}.example.com/`,
    name: 'Invoices',
    scopes: [
      { name: `${id}:write`, description: 'Create and change invoices', selfService: false },
      { name: `${id}:read`, description: 'Read invoices', selfService: true },
    ],
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  }
}

let keyNumber = 0
function aSigningKey(createdAt: number, alg: SigningKeyRecord['alg'] = 'ES256'): SigningKeyRecord {
  const kid = unique('kid')
  return { kid, alg, publicJwk: JSON.stringify({ kid, n: ++keyNumber }), privateJwkEncrypted: `enc:${kid}`, createdAt, retiredAt: null }
}

for (const backend of backends) {
  describe(`the ${backend.kind} store`, { skip: backend.skip }, () => {
    let database: FreshDatabase
    let store: KyselyStore

    before(async () => {
      database = await backend.fresh()
      store = openStore(database.url)
      await store.migrate()
    })
    after(async () => {
      await store?.close()
      await database?.drop()
    })

    /** Signing keys are one table-wide set: each of those tests gets its own database. */
    async function withFreshStore(run: (fresh: KyselyStore) => Promise<void>): Promise<void> {
      const own = await backend.fresh()
      const fresh = openStore(own.url)
      try {
        await fresh.migrate()
        await run(fresh)
      } finally {
        await fresh.close()
        await own.drop()
      }
    }

    test('reports its kind and answers a ping', async () => {
      assert.equal(store.kind, backend.kind)
      await store.ping()
    })

    test('applies no migration twice', async () => {
      assert.deepEqual(await store.migrate(), [])
    })

    // ── clients ────────────────────────────────────────────────────────────
    test('stores a client and gives it back field for field', async () => {
      const client = aClient({ audience: 'https://api.example.com', tokenFormat: 'opaque', signingAlg: 'RS256', rotateRefreshTokens: false, refreshTokenReuseInterval: 30 })
      await store.insertClient(client)
      assert.deepEqual(await store.getClient(client.id), client)
    })

    test('stores a public browser client with its redirect URIs and PAR/consent settings', async () => {
      const client = aClient({
        secretDigest: '',
        tokenEndpointAuthMethod: 'none',
        applicationType: 'spa',
        redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1/cb'],
        postLogoutRedirectUris: ['https://app.example.com/'],
        requirePar: true,
        skipConsent: true,
      })
      await store.insertClient(client)
      assert.deepEqual(await store.getClient(client.id), client)
    })

    test('answers undefined for an unknown client', async () => {
      assert.equal(await store.getClient('no-such-client'), undefined)
    })

    test('refuses a second client with the same id with a DuplicateError', async () => {
      const client = aClient()
      await store.insertClient(client)
      await assert.rejects(store.insertClient({ ...client, name: 'other' }), (error: unknown) => {
        assert.ok(error instanceof DuplicateError)
        assert.equal(error.message, `client ${client.id} already exists`)
        return true
      })
    })

    test('updates every field of a client but its creation time', async () => {
      const client = aClient()
      await store.insertClient(client)
      const changed: Client = {
        ...client,
        name: 'renamed',
        secretDigest: 'c'.repeat(64),
        grantTypes: ['password'],
        scopes: ['write'],
        defaultScopes: [],
        audience: 'aud',
        tokenFormat: 'opaque',
        accessTokenTtl: 60,
        refreshTokenAbsoluteTtl: 120,
        refreshTokenSlidingTtl: 90,
        refreshTokenReuseInterval: 5,
        rotateRefreshTokens: false,
        tokensNotBefore: T0 + 500,
        allowedUsers: ['user-1', 'user-2'],
        createdAt: T0 + 999,
        updatedAt: T0 + 1000,
      }
      await store.updateClient(changed)
      assert.deepEqual(await store.getClient(client.id), { ...changed, createdAt: T0 })
    })

    test('deletes a client with its grants, refresh tokens, opaque tokens and API keys', async () => {
      const client = aClient()
      await store.insertClient(client)
      const family = aFamily(client.id)
      const refresh = aRefreshToken(family)
      await store.insertGrant(family, refresh)
      const opaque = anOpaqueToken(client.id, { grantId: family.id })
      await store.insertOpaqueToken(opaque)
      const key = anApiKey(client.id)
      await store.insertApiKey(key)

      assert.equal(await store.deleteClient(client.id), true)
      assert.deepEqual(
        [await store.getClient(client.id), await store.getGrant(family.id), await store.findRefreshToken(refresh.digest), await store.findOpaqueToken(opaque.digest), await store.getApiKey(key.id)],
        [undefined, undefined, undefined, undefined, undefined],
      )
      assert.equal(await store.deleteClient(client.id), false)
    })

    test('lists clients in id order, a page at a time', async () => {
      const prefix = unique('page')
      const ids = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`]
      for (const id of ids) await store.insertClient(aClient({ id }))
      const first = await store.listClients({ limit: 2, after: prefix })
      assert.deepEqual(first.map((c) => c.id), [`${prefix}-a`, `${prefix}-b`])
      const second = await store.listClients({ limit: 2, after: `${prefix}-b` })
      assert.equal(second[0]?.id, `${prefix}-c`)
    })

    test('keeps a client that may log in only some users apart from one that may log in any', async () => {
      const some = aClient({ allowedUsers: ['user-9'] })
      const none = aClient({ allowedUsers: [] })
      await store.insertClient(some)
      await store.insertClient(none)
      assert.deepEqual([(await store.getClient(some.id))?.allowedUsers, (await store.getClient(none.id))?.allowedUsers], [['user-9'], []])
    })

    // ── API registry ───────────────────────────────────────────────────────
    test('stores an API with its scopes in order and finds it by id and by identifier', async () => {
      const api = anApi()
      await store.insertApi(api)
      assert.deepEqual(await store.getApi(api.id), api)
      assert.deepEqual(await store.getApiByIdentifier(api.identifier), api)
      assert.deepEqual([await store.getApi('no-such-api'), await store.getApiByIdentifier('https://nowhere.example.com')], [undefined, undefined])
      assert.deepEqual((await store.listApis()).find((listed) => listed.id === api.id), api)
    })

    test('refuses a second API with the same identifier, or a scope name another API has, with a DuplicateError', async () => {
      const api = anApi()
      await store.insertApi(api)
      await assert.rejects(store.insertApi(anApi({ identifier: api.identifier })), DuplicateError)
      const taken = api.scopes[0]
      assert.ok(taken)
      const thief = anApi({ scopes: [{ ...taken }] })
      await assert.rejects(store.insertApi(thief), DuplicateError)
      assert.equal(await store.getApi(thief.id), undefined, 'nothing of the refused API is stored')
    })

    test('replaces the identifier, name and scope list of an API, and refuses a taken scope without changing anything', async () => {
      const api = anApi()
      const other = anApi()
      await store.insertApi(api)
      await store.insertApi(other)
      const changed: Api = { ...api, identifier: `${api.identifier}v2`, name: 'Invoices v2', scopes: [{ name: `${api.id}:admin`, description: 'Everything', selfService: false }], createdAt: T0 + 5, updatedAt: T0 + 10 }
      await store.updateApi(changed)
      assert.deepEqual(await store.getApi(api.id), { ...changed, createdAt: T0 })
      const otherScope = other.scopes[0]
      assert.ok(otherScope)
      await assert.rejects(store.updateApi({ ...changed, scopes: [...changed.scopes, otherScope] }), DuplicateError)
      assert.deepEqual(await store.getApi(api.id), { ...changed, createdAt: T0 })
    })

    test('deletes an API with its scopes, freeing the scope names', async () => {
      const api = anApi()
      await store.insertApi(api)
      assert.equal(await store.deleteApi(api.id), true)
      assert.equal(await store.getApi(api.id), undefined)
      assert.equal(await store.deleteApi(api.id), false)
      await store.insertApi(anApi({ scopes: api.scopes }))
    })

    // ── users ──────────────────────────────────────────────────────────────
    test('stores a user and finds it by id and by username', async () => {
      const user = aUser({ email: 'ann@example.com', disabled: true })
      await store.insertUser(user)
      assert.deepEqual([await store.getUser(user.id), await store.getUserByUsername(user.username)], [user, user])
      assert.equal(await store.getUserByUsername('nobody@example.com'), undefined)
    })

    test('refuses a second user with the same username with a DuplicateError', async () => {
      const user = aUser()
      await store.insertUser(user)
      await assert.rejects(store.insertUser({ ...user, id: unique('user') }), DuplicateError)
    })

    test('updates and deletes a user', async () => {
      const user = aUser()
      await store.insertUser(user)
      const changed = { ...user, passwordHash: '$argon2id$other', name: null, disabled: true }
      await store.updateUser(changed)
      assert.deepEqual(await store.getUser(user.id), changed)
      assert.equal(await store.deleteUser(user.id), true)
      assert.equal(await store.deleteUser(user.id), false)
      assert.equal(await store.getUser(user.id), undefined)
    })

    test('lists users in username order after a given username', async () => {
      const prefix = unique('list')
      for (const name of ['b', 'a']) await store.insertUser(aUser({ username: `${prefix}-${name}@example.com` }))
      const page = await store.listUsers({ limit: 2, after: prefix })
      assert.deepEqual(page.map((u) => u.username), [`${prefix}-a@example.com`, `${prefix}-b@example.com`])
    })

    // ── API keys ───────────────────────────────────────────────────────────
    test('stores an API key and revokes it once', async () => {
      const client = aClient()
      await store.insertClient(client)
      const key = anApiKey(client.id, { expiresAt: T0 + 5000 })
      await store.insertApiKey(key)
      assert.deepEqual(await store.getApiKey(key.id), key)
      await assert.rejects(store.insertApiKey(key), DuplicateError)

      assert.equal(await store.revokeApiKey(key.id, T0 + 10), true)
      // Revoking again succeeds but keeps the first revocation time.
      assert.equal(await store.revokeApiKey(key.id, T0 + 20), true)
      assert.deepEqual(await store.getApiKey(key.id), { ...key, revokedAt: T0 + 10 })
      assert.equal(await store.revokeApiKey('NOSUCH', T0), false)
    })

    test('lists API keys of one client', async () => {
      const [mine, theirs] = [aClient(), aClient()]
      await store.insertClient(mine)
      await store.insertClient(theirs)
      const keys = [anApiKey(mine.id), anApiKey(mine.id), anApiKey(theirs.id)]
      for (const key of keys) await store.insertApiKey(key)
      const listed = await store.listApiKeys({ limit: 10, clientId: mine.id })
      assert.deepEqual(listed.map((k) => k.id), [keys[0]!.id, keys[1]!.id].sort())
    })

    // ── signing keys ───────────────────────────────────────────────────────
    test('creates exactly one first signing key when instances start at once', async () => {
      await withFreshStore(async (fresh) => {
        const candidates = Array.from({ length: 6 }, () => aSigningKey(T0))
        const inserted = await Promise.all(candidates.map((key) => fresh.insertFirstSigningKey(key)))
        assert.equal(inserted.filter(Boolean).length, 1)
        const winner = candidates[inserted.indexOf(true)]!
        assert.deepEqual(await fresh.listSigningKeys(), [winner])
        assert.equal(await fresh.insertFirstSigningKey(aSigningKey(T0 + 1)), false)
      })
    })

    test('rotates to a new key, retiring the old one at its creation time, newest listed first', async () => {
      await withFreshStore(async (fresh) => {
        const first = aSigningKey(T0)
        await fresh.insertFirstSigningKey(first)
        const second = aSigningKey(T0 + 1000)
        await fresh.rotateSigningKey(second)
        assert.deepEqual(await fresh.listSigningKeys(), [second, { ...first, retiredAt: T0 + 1000 }])
      })
    })

    test('leaves exactly one active key when several instances rotate at once', async () => {
      await withFreshStore(async (fresh) => {
        await fresh.insertFirstSigningKey(aSigningKey(T0))
        await Promise.all(Array.from({ length: 6 }, (_, i) => fresh.rotateSigningKey(aSigningKey(T0 + 1000 + i))))
        const keys = await fresh.listSigningKeys()
        assert.equal(keys.length, 7)
        assert.equal(keys.filter((key) => key.retiredAt === null).length, 1)
      })
    })

    test('keeps one active key per algorithm: an RS256 first key beside an ES256 one, rotated on its own', async () => {
      await withFreshStore(async (fresh) => {
        const es256 = aSigningKey(T0)
        await fresh.insertFirstSigningKey(es256)
        // The first start after the RS256 upgrade: racing instances, one RS256 key.
        const candidates = Array.from({ length: 6 }, () => aSigningKey(T0 + 10, 'RS256'))
        const inserted = await Promise.all(candidates.map((key) => fresh.insertFirstSigningKey(key)))
        assert.equal(inserted.filter(Boolean).length, 1)
        const rs256 = candidates[inserted.indexOf(true)]!
        assert.deepEqual(await fresh.listSigningKeys(), [rs256, es256])
        assert.equal(await fresh.insertFirstSigningKey(aSigningKey(T0 + 20, 'RS256')), false)
        assert.equal(await fresh.insertFirstSigningKey(aSigningKey(T0 + 20, 'ES256')), false)
        const nextRs256 = aSigningKey(T0 + 1000, 'RS256')
        await fresh.rotateSigningKey(nextRs256)
        assert.deepEqual(await fresh.listSigningKeys(), [nextRs256, { ...rs256, retiredAt: T0 + 1000 }, es256])
        const nextEs256 = aSigningKey(T0 + 2000, 'ES256')
        await fresh.rotateSigningKey(nextEs256)
        assert.deepEqual(await fresh.listSigningKeys(), [nextEs256, nextRs256, { ...rs256, retiredAt: T0 + 1000 }, { ...es256, retiredAt: T0 + 2000 }])
        // Instances rotating both algorithms at once still leave one active key of each.
        await Promise.all(Array.from({ length: 6 }, (_, i) => fresh.rotateSigningKey(aSigningKey(T0 + 3000 + i, i % 2 === 0 ? 'ES256' : 'RS256'))))
        const active = (await fresh.listSigningKeys()).filter((key) => key.retiredAt === null)
        assert.deepEqual(active.map((key) => key.alg).sort(), ['ES256', 'RS256'])
      })
    })

    test('deletes only keys retired before a given time', async () => {
      await withFreshStore(async (fresh) => {
        const keys = [aSigningKey(T0), aSigningKey(T0 + 10), aSigningKey(T0 + 20)]
        await fresh.insertFirstSigningKey(keys[0]!)
        await fresh.rotateSigningKey(keys[1]!)
        await fresh.rotateSigningKey(keys[2]!)
        assert.equal(await fresh.deleteSigningKeysRetiredBefore(T0 + 15), 1)
        assert.deepEqual((await fresh.listSigningKeys()).map((k) => k.kid), [keys[2]!.kid, keys[1]!.kid])
      })
    })

    // ── refresh tokens ─────────────────────────────────────────────────────
    test('finds a refresh token with its grant', async () => {
      const client = aClient()
      await store.insertClient(client)
      const family = aFamily(client.id)
      const token = aRefreshToken(family, { audience: 'aud' })
      await store.insertGrant(family, token)
      assert.deepEqual(await store.findRefreshToken(token.digest), { ...token, grant: family })
      assert.equal(await store.findRefreshToken('no-such-digest'), undefined)
    })

    test('lets exactly one of many concurrent rotations of a refresh token win', async () => {
      const client = aClient()
      await store.insertClient(client)
      const family = aFamily(client.id)
      const token = aRefreshToken(family)
      await store.insertGrant(family, token)
      const successors = Array.from({ length: 8 }, () => aRefreshToken(family, { issuedAt: T0 + 5 }))
      const results = await Promise.all(successors.map((successor) => store.rotateRefreshToken(token.digest, T0 + 5, successor)))
      assert.deepEqual(results.filter((r) => r === 'consumed').length, 1)
      assert.deepEqual(results.filter((r) => r === 'already-used').length, 7)
      const winner = successors[results.indexOf('consumed')]!
      assert.deepEqual(await store.findRefreshToken(winner.digest), { ...winner, grant: family })
      // The losers stored nothing.
      const stored = await Promise.all(successors.map((s) => store.findRefreshToken(s.digest)))
      assert.equal(stored.filter((s) => s !== undefined).length, 1)
      assert.equal((await store.findRefreshToken(token.digest))?.usedAt, T0 + 5)
    })

    test('extends a refresh token', async () => {
      const client = aClient()
      await store.insertClient(client)
      const family = aFamily(client.id)
      const first = aRefreshToken(family)
      await store.insertGrant(family, first)
      await store.touchRefreshToken(first.digest, T0 + 7_200_000)
      assert.deepEqual(await store.findRefreshToken(first.digest), { ...first, expiresAt: T0 + 7_200_000, grant: family })
    })

    // ── grants ─────────────────────────────────────────────────────────────
    test('stores a grant without refresh tokens and gives it back field for field', async () => {
      const client = aClient()
      await store.insertClient(client)
      const grant = aGrant(client.id, { subjectType: 'client', subject: client.id, grantType: 'api_key', audience: 'https://api.example.com', apiKeyId: 'KEY1' })
      await store.insertGrant(grant)
      assert.deepEqual(await store.getGrant(grant.id), grant)
      assert.equal(await store.getGrant('no-such-grant'), undefined)
    })

    test('ends a grant once, keeping its first reason, for every token in it and its opaque access tokens', async () => {
      const client = aClient()
      await store.insertClient(client)
      const family = aFamily(client.id)
      const token = aRefreshToken(family)
      await store.insertGrant(family, token)
      const opaque = anOpaqueToken(client.id, { grantId: family.id })
      await store.insertOpaqueToken(opaque)

      assert.equal(await store.endGrants({ grantId: family.id }, T0 + 100, 'refresh_token_revoked'), 1)
      assert.equal(await store.endGrants({ grantId: family.id }, T0 + 200, 'reuse_detected'), 0)
      const ended = { ...family, revokedAt: T0 + 100, revokedReason: 'refresh_token_revoked' as const }
      assert.deepEqual((await store.findRefreshToken(token.digest))?.grant, ended)
      assert.deepEqual(await store.getGrant(family.id), ended)
      assert.deepEqual(await store.findOpaqueToken(opaque.digest), { ...opaque, grantEnded: true })
    })

    test("ends a user's grants (with one client or all), a client's and an API key's, and no others", async () => {
      const a = aClient()
      const b = aClient()
      await store.insertClient(a)
      await store.insertClient(b)
      const user = unique('user')
      const userWithA = aGrant(a.id, { subject: user })
      const userWithB = aGrant(b.id, { subject: user })
      const otherUser = aGrant(a.id, { subject: unique('user') })
      // A client acting for itself whose id equals the user id is not the user's grant.
      const clientItself = aGrant(b.id, { subject: user, subjectType: 'client' })
      const keyGrant = aGrant(b.id, { subject: b.id, subjectType: 'client', grantType: 'api_key', apiKeyId: unique('KEY') })
      for (const grant of [userWithA, userWithB, otherUser, clientItself, keyGrant]) await store.insertGrant(grant)
      const live = async (): Promise<string[]> =>
        (await Promise.all([userWithA, userWithB, otherUser, clientItself, keyGrant].map((g) => store.getGrant(g.id)))).map((g) => (g?.revokedAt === null ? 'live' : 'ended'))

      assert.equal(await store.endGrants({ subject: user, clientId: a.id }, T0 + 1, 'sessions_ended'), 1)
      assert.deepEqual(await live(), ['ended', 'live', 'live', 'live', 'live'])
      assert.equal(await store.endGrants({ subject: user }, T0 + 2, 'user_disabled'), 1)
      assert.deepEqual(await live(), ['ended', 'ended', 'live', 'live', 'live'])
      assert.equal(await store.endGrants({ apiKeyId: keyGrant.apiKeyId ?? '' }, T0 + 3, 'api_key_revoked'), 1)
      assert.deepEqual(await live(), ['ended', 'ended', 'live', 'live', 'ended'])
      assert.equal(await store.endGrants({ clientId: b.id }, T0 + 4, 'secret_rotated'), 1)
      assert.deepEqual(await live(), ['ended', 'ended', 'live', 'ended', 'ended'])
    })

    test('revoking an API key ends the grants its exchanges started, in the same transaction', async () => {
      const client = aClient()
      await store.insertClient(client)
      const key = anApiKey(client.id)
      await store.insertApiKey(key)
      const grant = aGrant(client.id, { grantType: 'api_key', apiKeyId: key.id })
      await store.insertGrant(grant, aRefreshToken(grant))
      assert.equal(await store.revokeApiKey(key.id, T0 + 9), true)
      assert.deepEqual(await store.getGrant(grant.id), { ...grant, revokedAt: T0 + 9, revokedReason: 'api_key_revoked' })
    })

    // ── access tokens ──────────────────────────────────────────────────────
    test('stores, finds and revokes an opaque token once', async () => {
      const client = aClient()
      await store.insertClient(client)
      const opaque = anOpaqueToken(client.id)
      await store.insertOpaqueToken(opaque)
      assert.deepEqual(await store.findOpaqueToken(opaque.digest), { ...opaque, grantEnded: false })
      await store.revokeOpaqueToken(opaque.digest, T0 + 1)
      await store.revokeOpaqueToken(opaque.digest, T0 + 2)
      assert.deepEqual(await store.findOpaqueToken(opaque.digest), { ...opaque, revokedAt: T0 + 1, grantEnded: false })
      assert.equal(await store.findOpaqueToken('no-such-digest'), undefined)
    })

    test('remembers a revoked JWT, idempotently', async () => {
      const jti = unique('jti')
      assert.equal(await store.isJwtRevoked(jti), false)
      await store.revokeJwt(jti, T0 + 1000)
      await store.revokeJwt(jti, T0 + 2000)
      assert.equal(await store.isJwtRevoked(jti), true)
    })

    // ── housekeeping ───────────────────────────────────────────────────────
    // ── operators ──────────────────────────────────────────────────────────
    test('stores an operator, changes its role keeping its creation time, and deletes it once', async () => {
      const id = unique('ops-client')
      assert.deepEqual(await store.putOperator({ kind: 'client', id, role: 'read-only', createdAt: T0 }), {
        operator: { kind: 'client', id, role: 'read-only', createdAt: T0 },
        previous: undefined,
      })
      assert.deepEqual(await store.getOperator('client', id), { kind: 'client', id, role: 'read-only', createdAt: T0 })
      assert.equal(await store.getOperator('user', id), undefined, 'a user with the same id is not that operator')
      assert.deepEqual(await store.putOperator({ kind: 'client', id, role: 'admin', createdAt: T0 + 5 }), {
        operator: { kind: 'client', id, role: 'admin', createdAt: T0 },
        previous: { kind: 'client', id, role: 'read-only', createdAt: T0 },
      })
      assert.equal(await store.deleteOperator('client', id), true)
      assert.equal(await store.deleteOperator('client', id), false)
      assert.equal(await store.getOperator('client', id), undefined)
    })

    test('keeps one entry when the same operator is put by many callers at once', async () => {
      const id = unique('ops-race')
      await Promise.all(Array.from({ length: 8 }, (_, n) => store.putOperator({ kind: 'user', id, role: n % 2 === 0 ? 'admin' : 'read-only', createdAt: T0 })))
      const entries = (await store.listOperators()).filter((entry) => entry.id === id)
      assert.equal(entries.length, 1)
    })

    test('lists operators by kind, then id', async () => {
      await withFreshStore(async (fresh) => {
        for (const [kind, id] of [['user', 'u-2'], ['client', 'c-2'], ['user', 'u-1'], ['client', 'c-1']] as const) {
          await fresh.putOperator({ kind, id, role: 'admin', createdAt: T0 })
        }
        assert.deepEqual(
          (await fresh.listOperators()).map((entry) => `${entry.kind}:${entry.id}`),
          ['client:c-1', 'client:c-2', 'user:u-1', 'user:u-2'],
        )
      })
    })

    test('deleting a client or a user takes it off the operator list', async () => {
      const client = aClient()
      const user = aUser()
      await store.insertClient(client)
      await store.insertUser(user)
      await store.putOperator({ kind: 'client', id: client.id, role: 'admin', createdAt: T0 })
      await store.putOperator({ kind: 'user', id: user.id, role: 'admin', createdAt: T0 })
      assert.equal(await store.deleteClient(client.id), true)
      assert.equal(await store.deleteUser(user.id), true)
      assert.deepEqual([await store.getOperator('client', client.id), await store.getOperator('user', user.id)], [undefined, undefined])
    })

    test('housekeeping deletes only expired rows, in bounded batches', async () => {
      await withFreshStore(async (fresh) => {
        const now = T0 + 10_000_000
        const client = aClient()
        await fresh.insertClient(client)
        // Expired: 3 families each with 1 expired refresh token; 3 opaque tokens; 3 revoked JWTs.
        const expiredFamilies = Array.from({ length: 3 }, () => aFamily(client.id, { expiresAt: now - 1 }))
        for (const family of expiredFamilies) await fresh.insertGrant(family, aRefreshToken(family, { expiresAt: now - 1 }))
        for (let i = 0; i < 3; i++) await fresh.insertOpaqueToken(anOpaqueToken(client.id, { expiresAt: now - 1 }))
        for (let i = 0; i < 3; i++) await fresh.revokeJwt(unique('jti'), now - 1)
        // Live: one of each, expiring exactly at `now` or later.
        const liveFamily = aFamily(client.id, { expiresAt: now + 1 })
        const liveToken = aRefreshToken(liveFamily, { expiresAt: now })
        await fresh.insertGrant(liveFamily, liveToken)
        const liveOpaque = anOpaqueToken(client.id, { expiresAt: now })
        await fresh.insertOpaqueToken(liveOpaque)
        const liveJti = unique('jti')
        await fresh.revokeJwt(liveJti, now + 1)

        // A batch of 2 takes at most 2 rows of each kind.
        const firstBatch = await fresh.deleteExpired(now, 2)
        assert.ok(firstBatch >= 6 && firstBatch <= 8, `first batch deleted ${firstBatch}`)
        let total = firstBatch
        for (let batch = await fresh.deleteExpired(now, 2); batch > 0; batch = await fresh.deleteExpired(now, 2)) total += batch
        assert.equal(total, 12)

        assert.deepEqual(
          [
            await fresh.findRefreshToken(liveToken.digest),
            await fresh.findOpaqueToken(liveOpaque.digest),
            await fresh.isJwtRevoked(liveJti),
            await fresh.getClient(client.id),
          ],
          [{ ...liveToken, grant: liveFamily }, { ...liveOpaque, grantEnded: false }, true, client],
        )
      })
    })

    test('housekeeping keeps an expired grant while an access token minted from it lives, and for the grace it is given', async () => {
      // Otherwise an ended grant's opaque access token would read as active once the grant row went.
      const now = T0 + 10_000_000
      const client = aClient()
      await store.insertClient(client)
      const family = aFamily(client.id, { expiresAt: now - 1 })
      await store.insertGrant(family, aRefreshToken(family, { expiresAt: now - 1 }))
      const opaque = anOpaqueToken(client.id, { grantId: family.id, expiresAt: now + 60_000 })
      await store.insertOpaqueToken(opaque)
      await store.endGrants({ grantId: family.id }, now - 10, 'refresh_token_revoked')

      while ((await store.deleteExpired(now, 100)) > 0) {}
      assert.deepEqual(await store.findOpaqueToken(opaque.digest), { ...opaque, grantEnded: true })

      // The token is gone; the grant stays for the grace (a JWT minted late still names it).
      while ((await store.deleteExpired(now + 60_001, 100, now + 60_001 - 3_600_000)) > 0) {}
      assert.equal(await store.findOpaqueToken(opaque.digest), undefined)
      assert.equal((await store.getGrant(family.id))?.id, family.id)
      while ((await store.deleteExpired(now + 60_001, 100)) > 0) {}
      assert.equal(await store.getGrant(family.id), undefined)
    })
  })
}
