import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { ClientView } from '../../src/core/admin/client-admin.js'
import type { OperatorRecord } from '../../src/core/admin/operator-store.js'
import type { Api } from '../../src/core/apis/api-store.js'
import type { UserDirectory } from '../../src/core/config-as-code/client-fields.js'
import type { Declaration } from '../../src/core/config-as-code/declaration.js'
import { exportState } from '../../src/core/config-as-code/export-state.js'
import { PlanError, planChanges, type CurrentState } from '../../src/core/config-as-code/plan.js'
import { APPLICATION_TYPES, GRANT_TYPES } from '../../src/core/types.js'

/** The planner alone: plain objects in, a list of changes out (no store, no file). */

const users: UserDirectory = {
  idOf: (ref) => ({ 'ana@example.com': 'u-ana', 'u-ana': 'u-ana', 'bo@example.com': 'u-bo', 'u-bo': 'u-bo' })[ref],
  usernameOf: (id) => ({ 'u-ana': 'ana@example.com', 'u-bo': 'bo@example.com' })[id],
}

function client(id: string, settings: Partial<ClientView> = {}): ClientView {
  return {
    id,
    name: id,
    tokenEndpointAuthMethod: 'client_secret_basic',
    jwks: null,
    jwksUri: null,
    applicationType: null,
    redirectUris: [],
    postLogoutRedirectUris: [],
    requirePar: false,
    requireDpop: false,
    skipConsent: false,
    grantTypes: ['client_credentials'],
    scopes: [],
    defaultScopes: [],
    audience: null,
    tokenFormat: 'jwt',
    signingAlg: 'ES256',
    accessTokenTtl: 3600,
    refreshTokenAbsoluteTtl: 2592000,
    refreshTokenSlidingTtl: 1296000,
    refreshTokenReuseInterval: 0,
    rotateRefreshTokens: true,
    tokensNotBefore: null,
    allowedUsers: null,
    createdAt: 0,
    updatedAt: 0,
    ...settings,
  }
}

const api = (identifier: string, scopes: [string, boolean][]): Api => ({ id: `id-${identifier}`, identifier, name: identifier, scopes: scopes.map(([name, selfService]) => ({ name, description: `about ${name}`, selfService })), createdAt: 0, updatedAt: 0 })

function state(overrides: Partial<CurrentState> = {}): CurrentState {
  return { clients: [], apis: [], operators: [], users, secretsMatch: new Map(), dialects: { 'wrapped.enabled': true }, ...overrides }
}

const plan = (declaration: Declaration, current: CurrentState, prune = false) => planChanges(declaration, current, { prune })

describe('planning configuration as code', () => {
  it('creates what is missing, with every declared field and where the secret comes from', () => {
    const result = plan(
      {
        apis: [{ identifier: 'https://api.example.com', name: 'Example', scopes: [{ name: 'read', description: 'Read', selfService: true }] }],
        clients: [
          { id: 'worker', name: 'Worker', scopes: ['read'], allowedUsers: ['ana@example.com'] },
          { id: 'ci', name: 'CI', secretFromEnv: 'CI_SECRET' },
          { id: 'spa', name: 'SPA', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb'] },
        ],
        operators: [{ user: 'bo@example.com', role: 'read-only' }, { client: 'ci', role: 'admin' }],
      },
      state(),
    )
    assert.deepEqual(result, {
      changes: [
        { kind: 'api', action: 'create', identifier: 'https://api.example.com', input: { identifier: 'https://api.example.com', name: 'Example', scopes: [{ name: 'read', description: 'Read', selfService: true }] }, fields: [{ field: 'name', to: 'Example' }, { field: 'scopes.read', to: { description: 'Read', selfService: true } }] },
        {
          kind: 'client',
          action: 'create',
          id: 'worker',
          settings: { name: 'Worker', scopes: ['read'], allowedUsers: ['u-ana'] },
          secret: 'generated',
          fields: [{ field: 'name', to: 'Worker' }, { field: 'scopes', to: ['read'] }, { field: 'allowedUsers', to: ['ana@example.com'] }, { field: 'secret', to: '(generated, printed once)' }],
        },
        { kind: 'client', action: 'create', id: 'ci', settings: { name: 'CI' }, secret: { fromEnv: 'CI_SECRET' }, fields: [{ field: 'name', to: 'CI' }, { field: 'secret', to: '(from $CI_SECRET)' }] },
        {
          kind: 'client',
          action: 'create',
          id: 'spa',
          settings: { name: 'SPA', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb'] },
          secret: 'none',
          fields: [{ field: 'name', to: 'SPA' }, { field: 'tokenEndpointAuthMethod', to: 'none' }, { field: 'grantTypes', to: ['authorization_code'] }, { field: 'redirectUris', to: ['https://app.example.com/cb'] }],
        },
        { kind: 'operator', action: 'create', subject: 'user', id: 'u-bo', label: 'bo@example.com', role: 'read-only', fields: [{ field: 'role', to: 'read-only' }] },
        { kind: 'operator', action: 'create', subject: 'client', id: 'ci', label: 'ci', role: 'admin', fields: [{ field: 'role', to: 'admin' }] },
      ],
      kept: [],
    })
  })

  it('updates only the fields that differ, old → new, and leaves fields the file does not name', () => {
    const current = state({
      clients: [client('worker', { accessTokenTtl: 3600, scopes: ['read'], allowedUsers: ['u-ana'], audience: 'https://api.example.com' })],
      apis: [api('https://api.example.com', [['read', false], ['write', false]])],
      operators: [{ kind: 'user', id: 'u-ana', role: 'admin', createdAt: 0 }],
    })
    const result = plan(
      {
        clients: [{ id: 'worker', name: 'worker', accessTokenTtl: 600, scopes: ['read'], allowedUsers: ['bo@example.com'] }],
        apis: [{ identifier: 'https://api.example.com', name: 'Example', scopes: [{ name: 'read', description: 'Reads', selfService: true }] }],
        operators: [{ user: 'ana@example.com', role: 'read-only' }],
      },
      current,
    )
    assert.deepEqual(result, {
      changes: [
        {
          kind: 'api',
          action: 'update',
          identifier: 'https://api.example.com',
          id: 'id-https://api.example.com',
          changes: { name: 'Example', scopes: [{ name: 'read', description: 'Reads', selfService: true }, { name: 'write', description: 'about write', selfService: false }] },
          fields: [
            { field: 'name', from: 'https://api.example.com', to: 'Example' },
            { field: 'scopes.read.description', from: 'about read', to: 'Reads' },
            { field: 'scopes.read.selfService', from: false, to: true },
          ],
        },
        { kind: 'client', action: 'update', id: 'worker', changes: { accessTokenTtl: 600, allowedUsers: ['u-bo'] }, fields: [{ field: 'accessTokenTtl', from: 3600, to: 600 }, { field: 'allowedUsers', from: ['ana@example.com'], to: ['bo@example.com'] }] },
        { kind: 'operator', action: 'update', subject: 'user', id: 'u-ana', label: 'ana@example.com', role: 'read-only', fields: [{ field: 'role', from: 'admin', to: 'read-only' }] },
      ],
      kept: ['scope write of api https://api.example.com'],
    })
  })

  it('plans nothing when the server already matches, and keeps what the file does not name', () => {
    const current = state({ clients: [client('worker'), client('other')], apis: [api('https://a.example', [['a', false]])], operators: [{ kind: 'client', id: 'other', role: 'admin', createdAt: 0 }] })
    assert.deepEqual(plan({ clients: [{ id: 'worker', name: 'worker', grantTypes: ['client_credentials'] }], apis: [], operators: [] }, current), {
      changes: [],
      kept: ['api https://a.example', 'client other', 'operator client other'],
    })
  })

  it('compares objects member by member whatever their order (a JWK), lists in their order', () => {
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x1', y: 'y1', kid: 'k1' }] }
    const current = state({ clients: [client('svc', { tokenEndpointAuthMethod: 'private_key_jwt', jwks, grantTypes: ['client_credentials', 'refresh_token'] })] })
    assert.deepEqual(plan({ clients: [{ id: 'svc', name: 'svc', jwks: { keys: [{ kid: 'k1', y: 'y1', x: 'x1', crv: 'P-256', kty: 'EC' }] } }] }, current).changes, [])
    assert.deepEqual(plan({ clients: [{ id: 'svc', name: 'svc', grantTypes: ['refresh_token', 'client_credentials'] }] }, current).changes.map((change) => change.fields), [
      [{ field: 'grantTypes', from: ['client_credentials', 'refresh_token'], to: ['refresh_token', 'client_credentials'] }],
    ])
  })

  it('with prune removes the records and scopes a section does not name: operator entries first, then clients, then APIs; never a user', () => {
    const current = state({
      clients: [client('worker'), client('old')],
      apis: [api('https://a.example', [['a', false], ['b', false]]), api('https://gone.example', [['g', false]])],
      operators: [{ kind: 'user', id: 'u-ana', role: 'admin', createdAt: 0 }],
    })
    const result = plan({ clients: [{ id: 'worker', name: 'worker' }], apis: [{ identifier: 'https://a.example', name: 'https://a.example', scopes: [{ name: 'a', description: 'about a' }] }], operators: [] }, current, true)
    assert.deepEqual(
      result.changes.map((change) => [change.kind, change.action, change.fields]),
      [
        ['api', 'update', [{ field: 'scopes.b', from: { description: 'about b', selfService: false } }]],
        ['operator', 'delete', [{ field: 'role', from: 'admin' }]],
        ['client', 'delete', []],
        ['api', 'delete', []],
      ],
    )
    assert.deepEqual(result.kept, [])
  })

  it('leaves a section the file leaves out alone, even with prune', () => {
    const current = state({ clients: [client('worker')], apis: [api('https://a.example', [['a', false]])], operators: [{ kind: 'client', id: 'worker', role: 'admin', createdAt: 0 }] })
    assert.deepEqual(plan({}, current, true), { changes: [], kept: [] })
  })

  it('sets the secret from the environment only when it is not the secret already', () => {
    const declaration: Declaration = { clients: [{ id: 'ci', name: 'ci', secretFromEnv: 'CI_SECRET' }] }
    assert.deepEqual(plan(declaration, state({ clients: [client('ci')], secretsMatch: new Map([['ci', true]]) })).changes, [])
    assert.deepEqual(plan(declaration, state({ clients: [client('ci')], secretsMatch: new Map([['ci', false]]) })).changes, [
      { kind: 'client', action: 'set-secret', id: 'ci', fromEnv: 'CI_SECRET', fields: [{ field: 'secret', from: '(another)', to: '(from $CI_SECRET)' }] },
    ])
  })

  it('diffs dialect settings field by field, and only when the file has a dialects section', () => {
    const current = state({ dialects: { 'wrapped.enabled': true, 'wrapped.paths.token': '/v1/auth/token' } })
    const desiredDialects = { 'wrapped.enabled': false, 'wrapped.paths.token': '/v1/auth/token' }
    assert.deepEqual(planChanges({ dialects: { wrapped: { enabled: false } } }, current, { prune: false, desiredDialects }).changes, [
      { kind: 'dialects', action: 'update', settings: desiredDialects, fields: [{ field: 'wrapped.enabled', from: true, to: false }] },
    ])
    assert.deepEqual(planChanges({}, current, { prune: false, desiredDialects }).changes, [])
  })

  it('refuses, naming the place, what cannot be: unknown users and clients, twice-declared records, a secret for a client without one', () => {
    assert.throws(
      () =>
        plan(
          {
            clients: [
              { id: 'a', name: 'a', allowedUsers: ['nobody@example.com'] },
              { id: 'a', name: 'a again' },
              { id: 'spa', name: 'spa', tokenEndpointAuthMethod: 'none', secretFromEnv: 'X' },
              { id: 'app', name: 'app', tokenEndpointAuthMethod: 'none', rotateRefreshTokens: false },
            ],
            apis: [
              { identifier: 'https://a.example', name: 'A', scopes: [{ name: 'a', description: 'a' }] },
              { identifier: 'https://a.example', name: 'A', scopes: [{ name: 'a', description: 'a' }] },
            ],
            operators: [{ user: 'ghost@example.com', role: 'admin' }, { client: 'nope', role: 'admin' }],
          },
          state(),
        ),
      (error: unknown) => {
        assert.ok(error instanceof PlanError)
        assert.deepEqual(error.problems, [
          { path: ['apis', 1, 'identifier'], message: 'API https://a.example is declared twice' },
          { path: ['clients', 0, 'allowedUsers'], message: 'client a: allowedUsers: no user nobody@example.com' },
          { path: ['clients', 1, 'id'], message: 'client a is declared twice' },
          { path: ['clients', 2, 'secretFromEnv'], message: 'client spa: a client of auth method none has no secret; remove secretFromEnv' },
          { path: ['clients', 3, 'rotateRefreshTokens'], message: "client app: a public client's refresh tokens always rotate (RFC 9700 §4.14.2); remove rotateRefreshTokens or make it true" },
          { path: ['operators', 0, 'user'], message: 'no user ghost@example.com (apply never creates users)' },
          { path: ['operators', 1, 'client'], message: 'no client nope, here or in the file' },
        ])
        return true
      },
    )
  })

  it('property: the export of any state, planned against that state, is no change at all (with or without prune)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9:-]{0,12}$/)
    const clientArb = fc.record({
      id: name,
      name,
      applicationType: fc.constantFrom(null, ...APPLICATION_TYPES),
      grantTypes: fc.uniqueArray(fc.constantFrom(...GRANT_TYPES), { maxLength: 3 }),
      scopes: fc.uniqueArray(name, { maxLength: 3 }),
      audience: fc.option(fc.webUrl(), { nil: null }),
      accessTokenTtl: fc.integer({ min: 1, max: 86400 }),
      rotateRefreshTokens: fc.boolean(),
      allowedUsers: fc.option(fc.uniqueArray(fc.constantFrom('u-ana', 'u-bo'), { maxLength: 2 }), { nil: null }),
    })
    const apiArb = fc.record({ identifier: fc.webUrl(), scopes: fc.uniqueArray(fc.tuple(name, fc.boolean()), { minLength: 1, maxLength: 3, selector: ([scope]) => scope }) })
    const operatorArb = fc.record({ kind: fc.constantFrom('user' as const, 'client' as const), role: fc.constantFrom('admin' as const, 'read-only' as const) })
    fc.assert(
      fc.property(
        fc.uniqueArray(clientArb, { maxLength: 4, selector: (c) => c.id }),
        fc.uniqueArray(apiArb, { maxLength: 3, selector: (a) => a.identifier }),
        fc.array(operatorArb, { maxLength: 2 }),
        fc.boolean(),
        (clients, apis, operators, prune) => {
          const views = clients.map((settings) => client(settings.id, settings))
          const entries: OperatorRecord[] = operators.flatMap((entry, i): OperatorRecord[] => {
            const id = entry.kind === 'user' ? ['u-ana', 'u-bo'][i] : views[i]?.id
            return id === undefined ? [] : [{ kind: entry.kind, id, role: entry.role, createdAt: 0 }]
          })
          const current = state({ clients: views, apis: apis.map((a) => api(a.identifier, a.scopes)), operators: entries })
          const exported = exportState(current)
          // Through JSON, as through the file: what the export writes is all apply sees.
          assert.deepEqual(plan(JSON.parse(JSON.stringify(exported)) as Declaration, current, prune), { changes: [], kept: [] })
        },
      ),
      { numRuns: 100 },
    )
  })
})
