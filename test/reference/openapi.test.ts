import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import SwaggerParser from '@apidevtools/swagger-parser'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

/** Fastify's `/clients/:clientId` is OpenAPI's `/clients/{clientId}`; a wildcard `*` is `{*}`. */
const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}')

describe('/openapi.json', () => {
  let server: TestServer
  let document: { openapi: string; paths: Record<string, Record<string, unknown>> }

  before(async () => {
    server = await startTestServer()
    const answer = await request(`${server.url}/openapi.json`)
    assert.equal(answer.status, 200)
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
    document = answer.body as typeof document
  })
  after(() => server.close())

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(document.openapi, '3.1.0')
    await SwaggerParser.validate(structuredClone(document) as never)
  })

  it('describes every route the server registers, and nothing else', () => {
    const registered = server.server.app.registeredRoutes
      // HEAD routes are Fastify's automatic twins of GET routes.
      .filter((route) => route.method !== 'HEAD')
      .map((route) => `${route.method} ${openApiPath(route.url)}`)
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).filter((key) => key !== 'parameters').map((method) => `${method.toUpperCase()} ${path}`))
    assert.deepEqual([...new Set(documented)].sort(), [...new Set(registered)].sort())
  })

  it('documents the management API with its security scheme, schemas and problem answers', () => {
    const create = document.paths['/admin/v1/clients']?.post as Record<string, unknown>
    assert.deepEqual(create.security, [{ bearerAuth: [] }])
    assert.deepEqual(create.tags, ['Clients'])
    const responses = create.responses as Record<string, { content?: Record<string, unknown> }>
    assert.deepEqual(Object.keys(responses).sort(), ['201', '400', '401', '403', '409'])
    const body = create.requestBody as { content: Record<string, { schema: { required: string[] } }> }
    assert.deepEqual(body.content['application/json']?.schema.required, ['name'])
  })

  it('documents the dialect routes without giving them validating schemas', async () => {
    const token = document.paths['/oauth/token']?.post as Record<string, unknown>
    assert.deepEqual(token.tags, ['Standard (RFC 6749)'])
    assert.ok((token.requestBody as { content: Record<string, unknown> }).content['application/x-www-form-urlencoded'])
    // Behaviour unchanged: a body the documentation would call invalid still gets the dialect's own answer.
    const answer = await request(`${server.url}/oauth/token`, { form: { foo: 'bar' } })
    assert.deepEqual([answer.status, answer.body], [400, { error: 'invalid_request', error_description: 'The grant_type parameter is required.' }])
  })

  it('gives every operation a request example and ten generated code samples', () => {
    const languages = ['shell', 'javascript', 'node', 'python', 'go', 'java', 'csharp', 'ruby', 'php', 'swift']
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, value] of Object.entries(operations)) {
        const operation = value as { parameters?: { name: string; required?: boolean; example?: unknown }[]; requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> }; 'x-codeSamples'?: { lang: string; label: string; source: string }[] }
        const where = `${method.toUpperCase()} ${path}`
        for (const parameter of operation.parameters ?? []) if (parameter.required) assert.notEqual(parameter.example, undefined, `${where}: parameter ${parameter.name}`)
        for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) assert.ok(media.examples?.example, `${where}: ${type} example`)
        const samples = operation['x-codeSamples'] ?? []
        assert.deepEqual(samples.map((sample) => sample.lang), languages, where)
        for (const sample of samples) assert.ok(sample.source.includes(server.config.issuer), `${where} ${sample.lang}: ${sample.source}`)
      }
    }
    const token = document.paths['/connect/token']?.post as { 'x-codeSamples': { lang: string; source: string }[] }
    assert.equal(
      token['x-codeSamples'][0]?.source,
      `curl --request POST \\\n  --url ${server.config.issuer}/connect/token \\\n  --header 'Content-Type: application/x-www-form-urlencoded' \\\n  --data grant_type=client_credentials \\\n  --data client_id=CLIENT_ID \\\n  --data client_secret=CLIENT_SECRET \\\n  --data scope=api`,
    )
  })
})
