import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createOperatorToken } from '../../src/core/admin/operator-token.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request, type HttpAnswer } from '../helpers/http.js'

const PROBLEM = 'application/problem+json; charset=utf-8'
const RUNS = Number(process.env.FUZZ_RUNS ?? 60)

const problem = (status: number, kind: string, title: string, detail: string) => ({ status, contentType: PROBLEM, body: { type: `urn:gatehouse:problem:${kind}`, title, status, detail } })
const asProblem = (answer: HttpAnswer) => ({ status: answer.status, contentType: answer.headers.get('content-type'), body: answer.body })
const stable = (record: unknown): Record<string, unknown> => ({ ...(record as Record<string, unknown>), id: '<id>', created_at: '<created_at>', updated_at: '<updated_at>' })

describe('management API: /admin/v1/apis', () => {
  let server: TestServer
  let auth: Record<string, string>
  const api = (path: string): string => `${server.url}/admin/v1${path}`

  before(async () => {
    server = await startTestServer()
    const g = server.server.gatehouse
    const issued = await createOperatorToken({ store: g.store, clients: g.clients, operators: g.operators, tokens: g.tokens, audit: g.audit, maxAccessTokenTtl: g.config.maxAccessTokenTtl })
    auth = { authorization: `Bearer ${issued.accessToken}` }
  })
  after(() => server.close())

  it('registers, shows (by id and by identifier), lists, changes and deletes an API, each an audit event', async () => {
    const created = await request(api('/apis'), {
      json: { identifier: 'https://api.gospeech.example/', name: 'GoSpeech API', scopes: [{ name: 'integrated-api', description: 'Your worklist records', self_service: true }, { name: 'records:delete', description: 'Delete records' }] },
      headers: auth,
    })
    assert.equal(created.status, 201)
    const expected = {
      id: '<id>',
      identifier: 'https://api.gospeech.example/',
      name: 'GoSpeech API',
      scopes: [
        { name: 'integrated-api', description: 'Your worklist records', self_service: true },
        { name: 'records:delete', description: 'Delete records', self_service: false },
      ],
      created_at: '<created_at>',
      updated_at: '<updated_at>',
    }
    assert.deepEqual(stable(created.body), expected)
    const id = String((created.body as Record<string, unknown>).id)
    assert.deepEqual((await request(api(`/apis/${id}`), { headers: auth })).body, created.body)
    assert.deepEqual((await request(api(`/apis/${encodeURIComponent('https://api.gospeech.example/')}`), { headers: auth })).body, created.body)
    assert.deepEqual((await request(api('/apis'), { headers: auth })).body, { apis: [created.body] })

    const changed = await request(api(`/apis/${id}`), { method: 'PATCH', json: { name: 'GoSpeech', scopes: [{ name: 'integrated-api', description: 'Your worklist records' }] }, headers: auth })
    assert.deepEqual([changed.status, stable(changed.body)], [200, { ...expected, name: 'GoSpeech', scopes: [{ name: 'integrated-api', description: 'Your worklist records', self_service: false }] }])

    const deleted = await request(api(`/apis/${id}`), { method: 'DELETE', headers: auth })
    assert.deepEqual([deleted.status, deleted.text], [204, ''])
    assert.deepEqual(asProblem(await request(api(`/apis/${id}`), { headers: auth })), problem(404, 'not-found', 'Not found', `No API ${id}.`))

    await server.server.gatehouse.audit.flush()
    const events = await server.server.gatehouse.audit.list({ limit: 10, target: `api:${id}` })
    assert.deepEqual(events.map((event) => [event.action, event.actor, event.details]).reverse(), [
      ['api.created', 'client:gatehouse-operator', { identifier: 'https://api.gospeech.example/', scopes: ['integrated-api', 'records:delete'] }],
      ['api.updated', 'client:gatehouse-operator', { fields: ['name', 'scopes'], identifier: 'https://api.gospeech.example/' }],
      ['api.deleted', 'client:gatehouse-operator', { identifier: 'https://api.gospeech.example/' }],
    ])
  })

  it('says what is wrong: taken identifier or scope (409), reserved identifier or scope, not a URL, no description (400)', async () => {
    const first = await request(api('/apis'), { json: { identifier: 'https://a.example.com', name: 'A', scopes: [{ name: 'a:read', description: 'Read A' }] }, headers: auth })
    assert.equal(first.status, 201)
    const post = (body: unknown) => request(api('/apis'), { json: body, headers: auth }).then(asProblem)
    assert.deepEqual(await post({ identifier: 'https://a.example.com', name: 'A2', scopes: [{ name: 'a2:read', description: 'Read' }] }), problem(409, 'conflict', 'Conflict', 'API https://a.example.com already exists'))
    assert.deepEqual(await post({ identifier: 'https://b.example.com', name: 'B', scopes: [{ name: 'a:read', description: 'Read' }] }), problem(409, 'conflict', 'Conflict', 'scope "a:read" (of API https://a.example.com) already exists'))
    assert.deepEqual(
      await post({ identifier: `${server.config.issuer}/admin/v1`, name: 'Admin', scopes: [{ name: 'x', description: 'x' }] }),
      problem(400, 'validation', 'Invalid request', `identifier "${server.config.issuer}/admin/v1" is reserved for Gatehouse's own management API`),
    )
    assert.deepEqual(
      await post({ identifier: 'https://c.example.com', name: 'C', scopes: [{ name: 'openid', description: 'x', self_service: true }] }),
      problem(400, 'validation', 'Invalid request', `scope "openid" is reserved (an OpenID Connect scope); it cannot belong to an API`),
    )
    assert.deepEqual(await post({ identifier: 'not a url', name: 'C', scopes: [{ name: 'c', description: 'x' }] }), problem(400, 'validation', 'Invalid request', 'identifier "not a url" is not an absolute URL (e.g. https://api.example.com)'))
    assert.deepEqual(await post({ identifier: 'https://c.example.com#top', name: 'C', scopes: [{ name: 'c', description: 'x' }] }), problem(400, 'validation', 'Invalid request', 'identifier "https://c.example.com#top" must not have a fragment (RFC 8707 §2)'))
    assert.deepEqual(await post({ identifier: 'https://c.example.com', name: 'C', scopes: [{ name: 'c', description: '   ' }] }), problem(400, 'validation', 'Invalid request', 'scope "c" needs a description of 1 to 500 characters'))
    assert.deepEqual(await post({ identifier: 'https://c.example.com', name: 'C', scopes: [{ name: 'c' }] }), problem(400, 'validation', 'Invalid request', "body/scopes/0 must have required property 'description'"))
  })

  it('needs an operator token for the admin audience', async () => {
    const answer = await request(api('/apis'))
    assert.deepEqual(asProblem(answer), problem(401, 'unauthorized', 'Unauthorized', `A bearer token for the audience ${server.config.issuer}/admin/v1 is required.`))
  })

  it("registers the platform's own management-api scope like any other (seed 001: a scope of the platform's API, with no meaning to Gatehouse)", async () => {
    const answer = await request(api('/apis'), { json: { identifier: 'https://manage.platform.example', name: 'Platform management', scopes: [{ name: 'management-api', description: 'Manage your platform resources' }] }, headers: auth })
    assert.equal(answer.status, 201, answer.text)
  })

  it('never answers 500, and always a problem or an API, whatever the body (fast-check)', async () => {
    const scopeName = fc.oneof(fc.constantFrom('openid', 'management-api', 'a:read', 'x y', ''), fc.string({ maxLength: 30 }))
    const scope = fc.record({ name: fc.oneof(scopeName, fc.integer()), description: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null)), self_service: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })) }, { requiredKeys: [] })
    const identifier = fc.oneof(fc.webUrl({ withFragments: true, withQueryParameters: true }), fc.constantFrom(`${server.config.issuer}/admin/v1/`, 'ftp://x.example', 'https://a.example.com'), fc.string({ maxLength: 40 }))
    const body = fc.oneof(
      fc.record({ identifier, name: fc.oneof(fc.string({ maxLength: 30 }), fc.integer()), scopes: fc.array(scope, { maxLength: 4 }) }, { requiredKeys: [] }),
      fc.json({ maxDepth: 2 }).map((text) => JSON.parse(text) as unknown),
    )
    const target = fc.oneof(fc.constant(''), fc.constant('/a.example.com'), fc.string({ maxLength: 20 }).map((text) => `/${encodeURIComponent(text)}`))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PATCH', 'GET', 'DELETE'), target, body, async (method, path, json) => {
        const answer = await request(api(`/apis${method === 'POST' ? '' : path}`), { method, ...(method === 'POST' || method === 'PATCH' ? { json } : {}), headers: auth })
        assert.ok(answer.status < 500, `${method} ${path} ${JSON.stringify(json)} → ${answer.status} ${answer.text}`)
        if (answer.status >= 400) {
          assert.equal(answer.headers.get('content-type'), PROBLEM)
          const problemBody = answer.body as Record<string, unknown>
          assert.deepEqual(Object.keys(problemBody).sort(), ['detail', 'status', 'title', 'type'])
          assert.equal(problemBody.status, answer.status)
          assert.doesNotMatch(answer.text, /\n\s+at |node_modules/)
        }
      }),
      { numRuns: RUNS },
    )
  })
})
