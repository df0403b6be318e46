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
import type { AuthorizationCodeRecord } from '../../src/core/authorization/authorization-code-store.js'
import type { SignInSessionRecord } from '../../src/core/authorization/sign-in-session-store.js'
import type { PushedRequestRecord } from '../../src/core/authorization/pushed-request-store.js'
import type { DeviceAuthorizationRecord, DeviceDecision } from '../../src/core/authorization/device-authorization-store.js'
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
    requireDpop: false,
    resources: [],
    allowImpersonation: false,
    skipConsent: false,
    jwks: null,
    jwksUri: null,
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
    tokenReuseSeconds: 0,
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

function anAuthorizationCode(clientId: string, userId: string, overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  return {
    digest: unique('code-digest'),
    clientId,
    userId,
    redirectUri: 'https://app.example.com/callback?tenant=a',
    scope: 'openid profile',
    audience: null,
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    nonce: null,
    sessionId: unique('sid'),
    authTime: T0 - 30_000,
    issuedAt: T0,
    expiresAt: T0 + 60_000,
    usedAt: null,
    grantId: null,
    ...overrides,
  }
}

function aSignInSession(userId: string, overrides: Partial<SignInSessionRecord> = {}): SignInSessionRecord {
  return {
    id: unique('sid'),
    digest: unique('session-digest'),
    userId,
    authTime: T0 - 5_000,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 86_400_000,
    endedAt: null,
    ...overrides,
  }
}

function aPushedRequest(clientId: string, overrides: Partial<PushedRequestRecord> = {}): PushedRequestRecord {
  return {
    digest: unique('par-digest'),
    clientId,
    parameters: {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://app.example.com/callback',
      scope: 'openid profile',
      state: 'a "quoted" state with ünïcödé & {braces}',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    },
    createdAt: T0,
    expiresAt: T0 + 60_000,
    usedAt: null,
    ...overrides,
  }
}

function aDeviceAuthorization(clientId: string, overrides: Partial<DeviceAuthorizationRecord> = {}): DeviceAuthorizationRecord {
  return {
    deviceCodeDigest: unique('device-digest'),
    userCodeDigest: unique('user-code-digest'),
    clientId,
    scope: 'openid offline_access api',
    audience: null,
    status: 'pending',
    userId: null,
    sessionId: null,
    authTime: null,
    interval: 5,
    lastPolledAt: null,
    createdAt: T0,
    expiresAt: T0 + 600_000,
    usedAt: null,
    grantId: null,
    ...overrides,
  }
}

const approval = (userId: string, overrides: Partial<DeviceDecision> = {}): DeviceDecision => ({ status: 'approved', userId, sessionId: unique('sid'), authTime: T0 + 50, scope: 'openid api', ...overrides })

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

    test('stores a private_key_jwt client with its JWK Set, or with its jwks_uri, member for member', async () => {
      const jwk = { kty: 'EC', crv: 'P-256', x: 'sHhorcACutmjbhcFa8GFg0OPi90LLrsCUzMWFlVzWLk', y: 'AhAris5erduc1lf9990WZttCxCBRwld48-5uRfdVSk0', kid: 'key-1', use: 'sig', alg: 'ES256' }
      const inline = aClient({ secretDigest: '', tokenEndpointAuthMethod: 'private_key_jwt', applicationType: 'machine', jwks: { keys: [jwk, { kty: 'OKP', crv: 'Ed25519', x: 'GUfrAV0aIaa_4KxyeDEtpdqh0o7vKYGsHStUlYsiJhg' }] } })
      const remote = aClient({ secretDigest: '', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://keys.example.com/.well-known/jwks.json?tenant=a' })
      await store.insertClient(inline)
      await store.insertClient(remote)
      assert.deepEqual([await store.getClient(inline.id), await store.getClient(remote.id)], [inline, remote])
      // Moving from inline keys to a URL (and back to a secret) is an update like any other.
      const moved: Client = { ...inline, jwks: null, jwksUri: 'https://keys.example.com/jwks', updatedAt: T0 + 1 }
      await store.updateClient(moved)
      assert.deepEqual(await store.getClient(inline.id), moved)
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
        tokenReuseSeconds: 45,
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
      // subject-1 is no user of this store: the user read with the token is null (deleted).
      assert.deepEqual(await store.findRefreshToken(token.digest), { ...token, grant: family, user: null })
      assert.equal(await store.findRefreshToken('no-such-digest'), undefined)
    })

    test("reads a user grant's user with its refresh token, and no user for a client's grant", async () => {
      const client = aClient()
      await store.insertClient(client)
      const user = aUser()
      await store.insertUser(user)
      const family = aFamily(client.id, { subject: user.id })
      const token = aRefreshToken(family)
      await store.insertGrant(family, token)
      assert.deepEqual((await store.findRefreshToken(token.digest))?.user, { disabled: false })
      await store.updateUser({ ...user, disabled: true })
      assert.deepEqual((await store.findRefreshToken(token.digest))?.user, { disabled: true })
      const own = aFamily(client.id, { subject: client.id, subjectType: 'client' })
      const ownToken = aRefreshToken(own)
      await store.insertGrant(own, ownToken)
      assert.equal('user' in ((await store.findRefreshToken(ownToken.digest)) ?? {}), false)
    })

    test('rotates many refresh tokens at once, each exactly once (group commit)', async () => {
      const client = aClient()
      await store.insertClient(client)
      const tokens: RefreshTokenRecord[] = []
      for (let i = 0; i < 30; i++) {
        const family = aFamily(client.id)
        const token = aRefreshToken(family)
        await store.insertGrant(family, token)
        tokens.push(token)
      }
      // Every token twice, all in flight at once: the calls share batches, and per token one wins.
      const successors = tokens.map((token) => [0, 1].map((n) => ({ ...aRefreshToken({ ...aFamily(client.id), id: token.familyId }), issuedAt: T0 + 9 + n })))
      const results = await Promise.all(tokens.flatMap((token, i) => successors[i]!.map((successor, n) => store.rotateRefreshToken(token.digest, T0 + 9 + n, successor))))
      for (const [i, token] of tokens.entries()) {
        const pair = results.slice(2 * i, 2 * i + 2)
        assert.deepEqual([...pair].sort(), ['already-used', 'consumed'])
        const won = pair.indexOf('consumed')
        assert.equal((await store.findRefreshToken(token.digest))?.usedAt, T0 + 9 + won)
        const stored = await Promise.all(successors[i]!.map((s) => store.findRefreshToken(s.digest)))
        assert.deepEqual(stored.map((s) => s !== undefined), [won === 0, won === 1])
      }
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
      assert.deepEqual(await store.findRefreshToken(winner.digest), { ...winner, grant: family, user: null })
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
      assert.deepEqual(await store.findRefreshToken(first.digest), { ...first, expiresAt: T0 + 7_200_000, grant: family, user: null })
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

    // ── client assertions ──────────────────────────────────────────────────
    test('remembers a client assertion jti once: of concurrent first uses exactly one wins', async () => {
      const client = aClient()
      await store.insertClient(client)
      const jti = unique('jti')
      const answers = await Promise.all(Array.from({ length: 8 }, () => store.rememberAssertionJti(client.id, jti, T0 + 60_000, T0)))
      assert.deepEqual(answers.filter(Boolean).length, 1)
      assert.equal(await store.rememberAssertionJti(client.id, jti, T0 + 60_000, T0 + 1000), false)
      // A jti is one client's: the same value from another client is another assertion.
      const other = aClient()
      await store.insertClient(other)
      assert.equal(await store.rememberAssertionJti(other.id, jti, T0 + 60_000, T0), true)
    })

    test('takes over an assertion jti record once it has expired, never while it lives', async () => {
      const client = aClient()
      await store.insertClient(client)
      const jti = unique('jti')
      assert.equal(await store.rememberAssertionJti(client.id, jti, T0 + 1000, T0), true)
      // At its expiry instant it still lives (the assertion could still pass an exp check then).
      assert.equal(await store.rememberAssertionJti(client.id, jti, T0 + 5000, T0 + 1000), false)
      const racing = await Promise.all(Array.from({ length: 6 }, () => store.rememberAssertionJti(client.id, jti, T0 + 9000, T0 + 1001)))
      assert.equal(racing.filter(Boolean).length, 1)
      assert.equal(await store.rememberAssertionJti(client.id, jti, T0 + 9000, T0 + 2000), false)
    })

    test('answers each assertion jti of one batch on its own: new ones win, a live record refuses, an expired one is taken over, a repeat loses to the first', async () => {
      const client = aClient()
      await store.insertClient(client)
      const [live, expired, fresh] = [unique('jti'), unique('jti'), unique('jti')]
      assert.equal(await store.rememberAssertionJti(client.id, live, T0 + 60_000, T0), true)
      assert.equal(await store.rememberAssertionJti(client.id, expired, T0 + 500, T0), true)
      // Called in one turn of the event loop: one batch, one statement.
      const answers = await Promise.all([
        store.rememberAssertionJti(client.id, fresh, T0 + 60_000, T0 + 1000),
        store.rememberAssertionJti(client.id, live, T0 + 60_000, T0 + 1000),
        store.rememberAssertionJti(client.id, expired, T0 + 60_000, T0 + 1000),
        store.rememberAssertionJti(client.id, fresh, T0 + 60_000, T0 + 1000),
        ...Array.from({ length: 20 }, (_, i) => store.rememberAssertionJti(client.id, `${fresh}-${i}`, T0 + 60_000, T0 + 1000)),
      ])
      assert.deepEqual(answers, [true, false, true, false, ...Array.from({ length: 20 }, () => true)])
      assert.equal(await store.rememberAssertionJti(client.id, expired, T0 + 60_000, T0 + 2000), false)
    })

    test('deleting a client forgets its assertion jti records', async () => {
      const client = aClient()
      await store.insertClient(client)
      const jti = unique('jti')
      assert.equal(await store.rememberAssertionJti(client.id, jti, T0 + 60_000, T0), true)
      assert.equal(await store.deleteClient(client.id), true)
      await store.insertClient(client)
      assert.equal(await store.rememberAssertionJti(client.id, jti, T0 + 60_000, T0), true)
    })

    // ── DPoP (RFC 9449) ────────────────────────────────────────────────────
    test('keeps a client\'s requireDpop, a grant\'s and an opaque token\'s DPoP key thumbprint (RFC 9449 §5, §6.2)', async () => {
      const client = aClient({ requireDpop: true })
      await store.insertClient(client)
      assert.deepEqual(await store.getClient(client.id), client)
      const grant = aGrant(client.id, { dpopJkt: 'jkt-of-the-grant' })
      const refresh = aRefreshToken(grant)
      await store.insertGrant(grant, refresh)
      assert.deepEqual(await store.getGrant(grant.id), grant)
      assert.equal((await store.findRefreshToken(refresh.digest))?.grant.dpopJkt, 'jkt-of-the-grant')
      const unbound = aGrant(client.id)
      await store.insertGrant(unbound)
      assert.deepEqual(await store.getGrant(unbound.id), unbound)
      const opaque = anOpaqueToken(client.id, { dpopJkt: 'jkt-of-the-token' })
      await store.insertOpaqueToken(opaque)
      assert.deepEqual(await store.findOpaqueToken(opaque.digest), { ...opaque, grantEnded: false })
    })

    test('remembers a DPoP proof once: of several concurrent inserts of one key exactly one wins (RFC 9449 §11.1)', async () => {
      const key = unique('proof')
      const results = await Promise.all(Array.from({ length: 5 }, () => store.rememberDpopProof(key, T0 + 60_000)))
      assert.equal(results.filter(Boolean).length, 1)
      assert.equal(await store.rememberDpopProof(key, T0 + 60_000), false)
      assert.equal(await store.rememberDpopProof(unique('proof'), T0 + 60_000), true)
    })

    test('answers each DPoP proof of one batch on its own: new keys win, a seen key loses, a repeat loses to the first', async () => {
      const seen = unique('proof')
      assert.equal(await store.rememberDpopProof(seen, T0 + 60_000), true)
      const fresh = unique('proof')
      const answers = await Promise.all([
        store.rememberDpopProof(fresh, T0 + 60_000),
        store.rememberDpopProof(seen, T0 + 60_000),
        store.rememberDpopProof(fresh, T0 + 60_000),
        ...Array.from({ length: 20 }, (_, i) => store.rememberDpopProof(`${fresh}-${i}`, T0 + 60_000)),
      ])
      assert.deepEqual(answers, [true, false, false, ...Array.from({ length: 20 }, () => true)])
    })

    test('answers a batch larger than one statement chunk: 150 DPoP proofs and 150 opaque tokens in one turn, each answered and stored', async () => {
      const keys = Array.from({ length: 150 }, () => unique('proof'))
      const answers = await Promise.all([...keys, keys[7] as string].map((key) => store.rememberDpopProof(key, T0 + 60_000)))
      assert.deepEqual(answers, [...keys.map(() => true), false])
      const client = aClient()
      await store.insertClient(client)
      const tokens = Array.from({ length: 150 }, () => anOpaqueToken(client.id))
      await Promise.all(tokens.map((token) => store.insertOpaqueToken(token)))
      for (const token of [tokens[0], tokens[127], tokens[128], tokens[149]]) assert.deepEqual(await store.findOpaqueToken((token as OpaqueTokenRecord).digest), { ...token, grantEnded: false })
    })

    test('housekeeping deletes DPoP proofs whose window has passed, and keeps live ones', async () => {
      await withFreshStore(async (fresh) => {
        const now = T0 + 10_000_000
        await fresh.rememberDpopProof('old', now - 1)
        await fresh.rememberDpopProof('live', now + 60_000)
        while ((await fresh.deleteExpired(now, 100)) > 0) {}
        assert.equal(await fresh.rememberDpopProof('old', now + 60_000), true)
        assert.equal(await fresh.rememberDpopProof('live', now + 60_000), false)
      })
    })

    // ── authorization codes ────────────────────────────────────────────────
    test('stores an authorization code and gives it back field for field, with its optional fields null or set', async () => {
      const client = aClient()
      await store.insertClient(client)
      const bare = anAuthorizationCode(client.id, unique('user'))
      const full = anAuthorizationCode(client.id, unique('user'), { audience: 'https://api.example.com', nonce: 'n-0S6_WzA2Mj', usedAt: T0 + 10, grantId: unique('grant') })
      await store.insertAuthorizationCode(bare)
      await store.insertAuthorizationCode(full)
      assert.deepEqual([await store.findAuthorizationCode(bare.digest), await store.findAuthorizationCode(full.digest)], [bare, full])
      assert.equal(await store.findAuthorizationCode('no-such-digest'), undefined)
      await assert.rejects(store.insertAuthorizationCode({ ...bare, userId: 'other' }), DuplicateError)
    })

    test('redeems an authorization code exactly once when token requests race for it, keeping the first grant id', async () => {
      const client = aClient()
      await store.insertClient(client)
      const code = anAuthorizationCode(client.id, unique('user'))
      await store.insertAuthorizationCode(code)
      const grants = Array.from({ length: 5 }, () => unique('grant'))
      const results = await Promise.all(grants.map((grantId, i) => store.consumeAuthorizationCode(code.digest, T0 + 10 + i, grantId)))
      assert.equal(results.filter((r) => r === 'consumed').length, 1)
      assert.equal(results.filter((r) => r === 'already-used').length, 4)
      const winner = results.indexOf('consumed')
      const redeemed = { ...code, usedAt: T0 + 10 + winner, grantId: grants[winner] ?? null }
      assert.deepEqual(await store.findAuthorizationCode(code.digest), redeemed)
      // A replay later changes nothing: its grant id is the one to end.
      assert.equal(await store.consumeAuthorizationCode(code.digest, T0 + 100, unique('grant')), 'already-used')
      assert.deepEqual(await store.findAuthorizationCode(code.digest), redeemed)
      assert.equal(await store.consumeAuthorizationCode('no-such-digest', T0, unique('grant')), 'already-used')
    })

    // ── sign-in sessions ───────────────────────────────────────────────────
    test('stores a sign-in session and finds it by its digest, ended or not; refuses a taken id or digest', async () => {
      const user = aUser()
      await store.insertUser(user)
      const live = aSignInSession(user.id)
      const ended = aSignInSession(user.id, { endedAt: T0 + 99 })
      await store.insertSignInSession(live)
      await store.insertSignInSession(ended)
      assert.deepEqual([await store.findSignInSession(live.digest), await store.findSignInSession(ended.digest)], [live, ended])
      assert.equal(await store.findSignInSession(live.id), undefined, 'found by digest, not by id')
      await assert.rejects(store.insertSignInSession({ ...aSignInSession(user.id), id: live.id }), DuplicateError)
      await assert.rejects(store.insertSignInSession({ ...aSignInSession(user.id), digest: live.digest }), DuplicateError)
    })

    test('records the use of a sign-in session, never moving it back', async () => {
      const user = aUser()
      await store.insertUser(user)
      const session = aSignInSession(user.id)
      await store.insertSignInSession(session)
      await store.touchSignInSession(session.id, T0 + 500)
      await store.touchSignInSession(session.id, T0 + 200)
      assert.deepEqual(await store.findSignInSession(session.digest), { ...session, lastSeenAt: T0 + 500 })
      await store.touchSignInSession('no-such-session', T0 + 500)
    })

    test("ends one sign-in session or all of a user's live ones, once, and says how many", async () => {
      const [ann, bob] = [aUser(), aUser()]
      await store.insertUser(ann)
      await store.insertUser(bob)
      const first = aSignInSession(ann.id)
      const second = aSignInSession(ann.id)
      // Past its absolute end: no longer live, so not counted (and not marked).
      const expired = aSignInSession(ann.id, { expiresAt: T0 + 15 })
      const bobs = aSignInSession(bob.id)
      for (const session of [first, second, expired, bobs]) await store.insertSignInSession(session)
      const endedAt = async (): Promise<(number | null | undefined)[]> =>
        Promise.all([first, second, expired, bobs].map(async (s) => (await store.findSignInSession(s.digest))?.endedAt))

      assert.equal(await store.endSignInSessions({ id: first.id }, T0 + 10), 1)
      assert.equal(await store.endSignInSessions({ id: first.id }, T0 + 11), 0)
      assert.deepEqual(await endedAt(), [T0 + 10, null, null, null])
      assert.equal(await store.endSignInSessions({ userId: ann.id }, T0 + 20), 1)
      assert.equal(await store.endSignInSessions({ userId: ann.id }, T0 + 30), 0)
      assert.deepEqual(await endedAt(), [T0 + 10, T0 + 20, null, null])
      assert.deepEqual([await store.endSignInSessions({ id: 'no-such-session' }, T0), await store.endSignInSessions({ userId: 'no-such-user' }, T0)], [0, 0])
    })

    // ── consents ───────────────────────────────────────────────────────────
    test('stores a consent per user and client, replaces it on a second put, and deletes it once', async () => {
      const user = unique('user')
      const client = unique('client')
      assert.equal(await store.getConsent(user, client), undefined)
      const consent = { userId: user, clientId: client, scope: 'openid profile', createdAt: T0, updatedAt: T0 }
      await store.putConsent(consent)
      assert.deepEqual(await store.getConsent(user, client), consent)
      const widened = { ...consent, scope: 'openid profile email', createdAt: T0, updatedAt: T0 + 100 }
      await store.putConsent(widened)
      assert.deepEqual(await store.getConsent(user, client), widened)
      assert.equal(await store.getConsent(client, user), undefined)
      assert.equal(await store.deleteConsent(user, client), true)
      assert.equal(await store.deleteConsent(user, client), false)
      assert.equal(await store.getConsent(user, client), undefined)
    })

    test("lists a user's consents newest first, and no one else's", async () => {
      const user = unique('user')
      const [a, b, c] = [unique('client'), unique('client'), unique('client')]
      await store.putConsent({ userId: user, clientId: a, scope: 'openid', createdAt: T0, updatedAt: T0 + 30 })
      await store.putConsent({ userId: user, clientId: b, scope: 'openid', createdAt: T0, updatedAt: T0 + 10 })
      await store.putConsent({ userId: user, clientId: c, scope: 'openid', createdAt: T0, updatedAt: T0 + 20 })
      await store.putConsent({ userId: unique('user'), clientId: a, scope: 'openid', createdAt: T0, updatedAt: T0 + 40 })
      assert.deepEqual((await store.listConsents(user)).map((consent) => consent.clientId), [a, c, b])
      // Changing a consent makes it the newest.
      await store.putConsent({ userId: user, clientId: b, scope: 'openid email', createdAt: T0, updatedAt: T0 + 50 })
      assert.deepEqual((await store.listConsents(user)).map((consent) => consent.clientId), [b, a, c])
      assert.deepEqual(await store.listConsents(unique('user')), [])
    })

    test('keeps one consent when the same user and client are put by many callers at once', async () => {
      const user = unique('user')
      const client = unique('client')
      await Promise.all(Array.from({ length: 6 }, (_, n) => store.putConsent({ userId: user, clientId: client, scope: `openid s${n}`, createdAt: T0, updatedAt: T0 + n })))
      const consents = await store.listConsents(user)
      assert.equal(consents.length, 1)
    })

    // ── pushed authorization requests ──────────────────────────────────────
    test('stores a pushed request with its parameters as sent and gives it back field for field', async () => {
      const client = aClient()
      await store.insertClient(client)
      const fresh = aPushedRequest(client.id)
      const used = aPushedRequest(client.id, { parameters: {}, usedAt: T0 + 5 })
      await store.insertPushedRequest(fresh)
      await store.insertPushedRequest(used)
      assert.deepEqual([await store.findPushedRequest(fresh.digest), await store.findPushedRequest(used.digest)], [fresh, used])
      assert.equal(await store.findPushedRequest('no-such-digest'), undefined)
      await assert.rejects(store.insertPushedRequest(fresh), DuplicateError)
    })

    test('marks a pushed request used for exactly one of several callers at once', async () => {
      const client = aClient()
      await store.insertClient(client)
      const request = aPushedRequest(client.id)
      await store.insertPushedRequest(request)
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.usePushedRequest(request.digest, T0 + 10 + i)))
      assert.equal(results.filter(Boolean).length, 1)
      assert.deepEqual(await store.findPushedRequest(request.digest), { ...request, usedAt: T0 + 10 + results.indexOf(true) })
      assert.equal(await store.usePushedRequest(request.digest, T0 + 100), false)
      assert.equal(await store.usePushedRequest('no-such-digest', T0), false)
    })

    // ── device authorizations ──────────────────────────────────────────────
    test('stores a device authorization and finds it by device code and by user code; refuses a taken user code', async () => {
      const client = aClient()
      await store.insertClient(client)
      const pending = aDeviceAuthorization(client.id)
      const redeemed = aDeviceAuthorization(client.id, {
        audience: 'https://api.example.com',
        status: 'approved',
        userId: unique('user'),
        sessionId: unique('sid'),
        authTime: T0 + 3,
        interval: 10,
        lastPolledAt: T0 + 4,
        usedAt: T0 + 5,
        grantId: unique('grant'),
      })
      await store.insertDeviceAuthorization(pending)
      await store.insertDeviceAuthorization(redeemed)
      assert.deepEqual(
        [await store.findDeviceAuthorization(pending.deviceCodeDigest), await store.findDeviceAuthorizationByUserCode(pending.userCodeDigest)],
        [pending, pending],
      )
      assert.deepEqual(await store.findDeviceAuthorization(redeemed.deviceCodeDigest), redeemed)
      assert.deepEqual([await store.findDeviceAuthorization('no-such-digest'), await store.findDeviceAuthorizationByUserCode('no-such-digest')], [undefined, undefined])
      await assert.rejects(store.insertDeviceAuthorization(aDeviceAuthorization(client.id, { userCodeDigest: pending.userCodeDigest })), DuplicateError)
    })

    test('approves a pending device authorization once, narrowing its scopes; a denial keeps the requested ones', async () => {
      const client = aClient()
      await store.insertClient(client)
      const approved = aDeviceAuthorization(client.id)
      const denied = aDeviceAuthorization(client.id)
      await store.insertDeviceAuthorization(approved)
      await store.insertDeviceAuthorization(denied)
      const user = unique('user')
      const decision = approval(user)
      assert.equal(await store.decideDeviceAuthorization(approved.userCodeDigest, decision, T0 + 100), true)
      const afterApproval = { ...approved, status: 'approved' as const, userId: user, sessionId: decision.sessionId, authTime: decision.authTime, scope: 'openid api' }
      assert.deepEqual(await store.findDeviceAuthorization(approved.deviceCodeDigest), afterApproval)
      // Decided: a second decision, either way, changes nothing.
      assert.equal(await store.decideDeviceAuthorization(approved.userCodeDigest, { ...approval(unique('user')), status: 'denied' }, T0 + 200), false)
      assert.equal(await store.decideDeviceAuthorization(approved.userCodeDigest, approval(unique('user')), T0 + 200), false)
      assert.deepEqual(await store.findDeviceAuthorization(approved.deviceCodeDigest), afterApproval)

      const denial: DeviceDecision = { ...approval(user), status: 'denied', scope: '' }
      assert.equal(await store.decideDeviceAuthorization(denied.userCodeDigest, denial, T0 + 100), true)
      assert.deepEqual(await store.findDeviceAuthorization(denied.deviceCodeDigest), { ...denied, status: 'denied', userId: user, sessionId: denial.sessionId, authTime: denial.authTime })
      assert.equal(await store.decideDeviceAuthorization('no-such-digest', approval(user), T0), false)
    })

    test('decides a device authorization only before it expires', async () => {
      const client = aClient()
      await store.insertClient(client)
      const record = aDeviceAuthorization(client.id, { expiresAt: T0 + 1000 })
      await store.insertDeviceAuthorization(record)
      assert.equal(await store.decideDeviceAuthorization(record.userCodeDigest, approval(unique('user')), T0 + 1000), false)
      assert.deepEqual(await store.findDeviceAuthorization(record.deviceCodeDigest), record)
      assert.equal(await store.decideDeviceAuthorization(record.userCodeDigest, approval(unique('user')), T0 + 999), true)
    })

    test('lets exactly one of several racing decisions on a device authorization through', async () => {
      const client = aClient()
      await store.insertClient(client)
      const record = aDeviceAuthorization(client.id)
      await store.insertDeviceAuthorization(record)
      const decisions = Array.from({ length: 6 }, (_, i): DeviceDecision => ({ ...approval(unique('user')), status: i % 2 === 0 ? 'approved' : 'denied' }))
      const results = await Promise.all(decisions.map((decision) => store.decideDeviceAuthorization(record.userCodeDigest, decision, T0 + 10)))
      assert.equal(results.filter(Boolean).length, 1)
      const winner = decisions[results.indexOf(true)]
      const stored = await store.findDeviceAuthorization(record.deviceCodeDigest)
      assert.deepEqual([stored?.status, stored?.userId, stored?.sessionId], [winner?.status, winner?.userId, winner?.sessionId])
    })

    test('records device polls, answering the previous poll time (null for the first) and storing a new interval', async () => {
      const client = aClient()
      await store.insertClient(client)
      const record = aDeviceAuthorization(client.id)
      await store.insertDeviceAuthorization(record)
      assert.equal(await store.recordDevicePoll(record.deviceCodeDigest, T0 + 1000), null)
      assert.equal(await store.recordDevicePoll(record.deviceCodeDigest, T0 + 3000, 10), T0 + 1000)
      assert.deepEqual(await store.findDeviceAuthorization(record.deviceCodeDigest), { ...record, lastPolledAt: T0 + 3000, interval: 10 })
      assert.equal(await store.recordDevicePoll(record.deviceCodeDigest, T0 + 9000), T0 + 3000)
      assert.deepEqual(await store.findDeviceAuthorization(record.deviceCodeDigest), { ...record, lastPolledAt: T0 + 9000, interval: 10 })
      assert.equal(await store.recordDevicePoll('no-such-digest', T0), null)
    })

    test('gives concurrent device polls each a distinct previous poll time: they line up, none is lost', async () => {
      const client = aClient()
      await store.insertClient(client)
      const record = aDeviceAuthorization(client.id)
      await store.insertDeviceAuthorization(record)
      const times = Array.from({ length: 8 }, (_, i) => T0 + 1000 * (i + 1))
      const previous = await Promise.all(times.map((at) => store.recordDevicePoll(record.deviceCodeDigest, at)))
      assert.equal(previous.filter((p) => p === null).length, 1, 'one poll was the first')
      const seen = previous.filter((p): p is number => p !== null)
      assert.equal(new Set(seen).size, seen.length, 'no two polls saw the same previous one')
      // Each poll's time is either what a later poll saw, or the one left on record.
      const last = (await store.findDeviceAuthorization(record.deviceCodeDigest))?.lastPolledAt
      assert.ok(last !== null && last !== undefined)
      assert.deepEqual([...seen, last].sort(), [...times].sort())
    })

    test('redeems an approved device authorization exactly once, keeping the first grant id; never a pending or denied one', async () => {
      const client = aClient()
      await store.insertClient(client)
      const record = aDeviceAuthorization(client.id)
      const denied = aDeviceAuthorization(client.id)
      await store.insertDeviceAuthorization(record)
      await store.insertDeviceAuthorization(denied)
      assert.equal(await store.consumeDeviceAuthorization(record.deviceCodeDigest, T0 + 5, unique('grant')), 'already-used', 'still pending')
      const decision = approval(unique('user'))
      assert.equal(await store.decideDeviceAuthorization(record.userCodeDigest, decision, T0 + 10), true)
      const grants = Array.from({ length: 5 }, () => unique('grant'))
      const results = await Promise.all(grants.map((grantId, i) => store.consumeDeviceAuthorization(record.deviceCodeDigest, T0 + 20 + i, grantId)))
      assert.equal(results.filter((r) => r === 'consumed').length, 1)
      const winner = results.indexOf('consumed')
      const redeemed = await store.findDeviceAuthorization(record.deviceCodeDigest)
      assert.deepEqual([redeemed?.usedAt, redeemed?.grantId, redeemed?.status], [T0 + 20 + winner, grants[winner], 'approved'])
      assert.equal(await store.consumeDeviceAuthorization(record.deviceCodeDigest, T0 + 100, unique('grant')), 'already-used')
      assert.equal((await store.findDeviceAuthorization(record.deviceCodeDigest))?.grantId, grants[winner])

      assert.equal(await store.decideDeviceAuthorization(denied.userCodeDigest, { ...decision, status: 'denied' }, T0 + 10), true)
      assert.equal(await store.consumeDeviceAuthorization(denied.deviceCodeDigest, T0 + 20, unique('grant')), 'already-used')
      assert.equal((await store.findDeviceAuthorization(denied.deviceCodeDigest))?.usedAt, null)
      assert.equal(await store.consumeDeviceAuthorization('no-such-digest', T0, unique('grant')), 'already-used')
    })

    test("deleting a user deletes their sign-in sessions and consents, and no one else's", async () => {
      const [ann, bob] = [aUser(), aUser()]
      await store.insertUser(ann)
      await store.insertUser(bob)
      const client = unique('client')
      const annSession = aSignInSession(ann.id)
      const bobSession = aSignInSession(bob.id)
      await store.insertSignInSession(annSession)
      await store.insertSignInSession(bobSession)
      await store.putConsent({ userId: ann.id, clientId: client, scope: 'openid', createdAt: T0, updatedAt: T0 })
      await store.putConsent({ userId: bob.id, clientId: client, scope: 'openid', createdAt: T0, updatedAt: T0 })

      assert.equal(await store.deleteUser(ann.id), true)
      assert.deepEqual([await store.findSignInSession(annSession.digest), await store.getConsent(ann.id, client)], [undefined, undefined])
      assert.deepEqual([await store.findSignInSession(bobSession.digest), (await store.getConsent(bob.id, client))?.userId], [bobSession, bob.id])
    })

    test("deleting a client deletes its consents, authorization codes, pushed requests and device authorizations, and no other client's", async () => {
      const [gone, kept] = [aClient(), aClient()]
      await store.insertClient(gone)
      await store.insertClient(kept)
      const user = unique('user')
      const records = (client: Client) => ({
        code: anAuthorizationCode(client.id, user),
        request: aPushedRequest(client.id),
        device: aDeviceAuthorization(client.id),
      })
      const [mine, theirs] = [records(gone), records(kept)]
      for (const [client, r] of [[gone, mine], [kept, theirs]] as const) {
        await store.insertAuthorizationCode(r.code)
        await store.insertPushedRequest(r.request)
        await store.insertDeviceAuthorization(r.device)
        await store.putConsent({ userId: user, clientId: client.id, scope: 'openid', createdAt: T0, updatedAt: T0 })
      }
      const find = async (client: Client, r: typeof mine) => [
        await store.getConsent(user, client.id),
        await store.findAuthorizationCode(r.code.digest),
        await store.findPushedRequest(r.request.digest),
        await store.findDeviceAuthorization(r.device.deviceCodeDigest),
      ]

      assert.equal(await store.deleteClient(gone.id), true)
      assert.deepEqual(await find(gone, mine), [undefined, undefined, undefined, undefined])
      assert.deepEqual(await find(kept, theirs), [{ userId: user, clientId: kept.id, scope: 'openid', createdAt: T0, updatedAt: T0 }, theirs.code, theirs.request, theirs.device])
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
          [{ ...liveToken, grant: liveFamily, user: null }, { ...liveOpaque, grantEnded: false }, true, client],
        )
      })
    })

    test('housekeeping deletes expired authorization codes, pushed requests, device authorizations and sign-in sessions, and ended sessions, in bounded batches', async () => {
      await withFreshStore(async (fresh) => {
        const now = T0 + 10_000_000
        const client = aClient()
        const user = aUser()
        await fresh.insertClient(client)
        await fresh.insertUser(user)
        // Expired (or ended): 3 of each kind; the sessions ended by sign-out are otherwise live.
        for (let i = 0; i < 3; i++) {
          await fresh.insertAuthorizationCode(anAuthorizationCode(client.id, user.id, { expiresAt: now - 1 }))
          await fresh.insertPushedRequest(aPushedRequest(client.id, { expiresAt: now - 1 }))
          await fresh.insertDeviceAuthorization(aDeviceAuthorization(client.id, { expiresAt: now - 1 }))
          await fresh.insertSignInSession(aSignInSession(user.id, { expiresAt: now - 1 }))
          await fresh.insertSignInSession(aSignInSession(user.id, { expiresAt: now + 86_400_000, endedAt: now - 5 }))
        }
        // Live: one of each, expiring exactly at `now` or later; used ones stay until they expire too.
        const code = anAuthorizationCode(client.id, user.id, { expiresAt: now, usedAt: now - 10, grantId: unique('grant') })
        const request = aPushedRequest(client.id, { expiresAt: now + 1 })
        const device = aDeviceAuthorization(client.id, { expiresAt: now })
        const session = aSignInSession(user.id, { expiresAt: now })
        const consent = { userId: user.id, clientId: client.id, scope: 'openid', createdAt: T0, updatedAt: T0 }
        await fresh.insertAuthorizationCode(code)
        await fresh.insertPushedRequest(request)
        await fresh.insertDeviceAuthorization(device)
        await fresh.insertSignInSession(session)
        await fresh.putConsent(consent)

        // A batch of 2 takes at most 2 rows of each kind (and 2 ended sessions besides).
        assert.equal(await fresh.deleteExpired(now, 2), 10)
        let total = 10
        for (let batch = await fresh.deleteExpired(now, 2); batch > 0; batch = await fresh.deleteExpired(now, 2)) total += batch
        assert.equal(total, 15)

        assert.deepEqual(
          [
            await fresh.findAuthorizationCode(code.digest),
            await fresh.findPushedRequest(request.digest),
            await fresh.findDeviceAuthorization(device.deviceCodeDigest),
            await fresh.findSignInSession(session.digest),
            await fresh.getConsent(user.id, client.id),
          ],
          [code, request, device, session, consent],
        )
      })
    })

    test('housekeeping deletes expired client assertion jti records in bounded batches, and keeps the live ones', async () => {
      await withFreshStore(async (fresh) => {
        const now = T0 + 10_000_000
        const client = aClient()
        await fresh.insertClient(client)
        for (let i = 0; i < 5; i++) assert.equal(await fresh.rememberAssertionJti(client.id, unique('jti'), now - 1, T0), true)
        const live = unique('jti')
        assert.equal(await fresh.rememberAssertionJti(client.id, live, now, T0), true)
        assert.equal(await fresh.deleteExpired(now, 2), 2)
        let total = 2
        for (let batch = await fresh.deleteExpired(now, 2); batch > 0; batch = await fresh.deleteExpired(now, 2)) total += batch
        assert.equal(total, 5)
        // The live one is still remembered: a replay is still refused.
        assert.equal(await fresh.rememberAssertionJti(client.id, live, now + 60_000, now), false)
      })
    })

    test('adds client usage increments per client and grant type, keeping the later last-issued time', async () => {
      const client = aClient()
      await store.insertClient(client)
      assert.deepEqual(await store.listClientUsage(client.id), [])
      await store.addClientUsage([
        { clientId: client.id, grantType: 'refresh_token', count: 2, lastIssuedAt: T0 + 20 },
        { clientId: client.id, grantType: 'client_credentials', count: 3, lastIssuedAt: T0 + 10 },
      ])
      await store.addClientUsage([
        { clientId: client.id, grantType: 'client_credentials', count: 4, lastIssuedAt: T0 + 5 },
        { clientId: client.id, grantType: 'refresh_token', count: 1, lastIssuedAt: T0 + 30 },
      ])
      await store.addClientUsage([])
      assert.deepEqual(await store.listClientUsage(client.id), [
        { grantType: 'client_credentials', count: 7, lastIssuedAt: T0 + 10 },
        { grantType: 'refresh_token', count: 3, lastIssuedAt: T0 + 30 },
      ])
    })

    test('counts every increment of concurrent flushes (several instances at once)', async () => {
      const client = aClient()
      await store.insertClient(client)
      await Promise.all(Array.from({ length: 8 }, (_, index) => store.addClientUsage([{ clientId: client.id, grantType: 'client_credentials', count: index + 1, lastIssuedAt: T0 + index }])))
      assert.deepEqual(await store.listClientUsage(client.id), [{ grantType: 'client_credentials', count: 36, lastIssuedAt: T0 + 7 }])
    })

    test("drops usage for a client that does not exist, and deletes a client's usage with it", async () => {
      const client = aClient()
      await store.insertClient(client)
      await store.addClientUsage([
        { clientId: client.id, grantType: 'client_credentials', count: 1, lastIssuedAt: T0 },
        { clientId: 'no-such-client', grantType: 'client_credentials', count: 5, lastIssuedAt: T0 },
      ])
      assert.deepEqual(await store.listClientUsage('no-such-client'), [])
      assert.equal(await store.deleteClient(client.id), true)
      assert.deepEqual(await store.listClientUsage(client.id), [])
      // A flush that arrives after the deletion (counted before it) brings nothing back.
      await store.addClientUsage([{ clientId: client.id, grantType: 'client_credentials', count: 2, lastIssuedAt: T0 + 1 }])
      assert.deepEqual(await store.listClientUsage(client.id), [])
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
