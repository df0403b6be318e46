import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import { SHARED_SCHEMAS } from '../admin/schemas.js'
import { addCodeSamples } from './code-samples.js'
import { addRequestExamples, type Paths } from './request-examples.js'
import { documentRoute } from './route-docs.js'
import { indexRoutes } from './route-index.js'

export const OPENAPI_PATH = '/openapi.json'

const TAGS = [
  { name: 'Standard (RFC 6749)', description: 'The standard token, introspection and revocation endpoints.' },
  { name: 'Canary API keys', description: 'Seed 000: API keys exchanged for tokens.' },
  { name: 'IdentityServer-style', description: 'Seed 001: /connect/* with IdentityServer conventions.' },
  { name: 'Wrapped', description: 'Seed 003: answers wrapped in {"data": …}.' },
  { name: 'Discovery', description: 'Metadata and public keys.' },
  { name: 'Clients', description: 'Management API: OAuth clients. Needs an operator token for the admin audience (ISSUER/admin/v1).' },
  { name: 'API keys', description: 'Management API: API keys.' },
  { name: 'APIs', description: 'Management API: the API and scope registry (audiences, scopes, self-service).' },
  { name: 'Users', description: 'Management API: users of the password grant and the console.' },
  { name: 'Signing keys', description: 'Management API: token signing keys.' },
  { name: 'Audit events', description: 'Management API: the audit log.' },
  { name: 'Operators', description: 'Management API: the operator list (admin role only).' },
  { name: 'Console', description: 'The developer console (HTML pages and form posts).' },
  { name: 'Reference', description: 'This document and the interactive reference.' },
  { name: 'Operations', description: 'Health checks.' },
]

/**
 * /openapi.json (OpenAPI 3.1), generated from the route schemas by @fastify/swagger. Must be
 * registered before any route so its onRoute hook sees them all. Routes that validate in
 * their handlers (the dialects) get documenting-only schemas at render time (route-docs.ts).
 */
export async function registerOpenApi(app: FastifyInstance, options: { issuer: string; version: string }): Promise<void> {
  indexRoutes(app)
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse',
        version: options.version,
        description: 'OAuth 2.0 token service: one token engine, several wire dialects, and a management API under /admin/v1 (an operator bearer token whose aud is ISSUER/admin/v1; errors are RFC 7807 problems).',
      },
      servers: [{ url: options.issuer }],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An operator access token of Gatehouse for the admin audience ISSUER/admin/v1 (`gatehouse admin create-token`, or client_credentials/password with audience=ISSUER/admin/v1).' },
          clientBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic (RFC 6749 §2.3.1).' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method)
      const own = (schema ?? {}) as Record<string, unknown>
      if (own.tags !== undefined) return { schema: own, url }
      return { schema: { ...documentRoute(method, url), ...own } as typeof schema, url }
    },
    // Once per document (@fastify/swagger caches the result): an example and ten snippets per operation.
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject
      const paths = (documentObject.openapiObject.paths ?? {}) as Paths
      addRequestExamples(paths)
      addCodeSamples(paths, options.issuer)
      return documentObject.openapiObject
    },
  })
  app.get(OPENAPI_PATH, { schema: { tags: ['Reference'], summary: 'This OpenAPI 3.1 document', produces: ['application/json'] } }, async () => app.swagger())
}
