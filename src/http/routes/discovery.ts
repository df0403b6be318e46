import type { FastifyInstance } from 'fastify'

export interface DiscoveryPaths {
  token: string
  introspection: string
  revocation: string
  jwks: string
}

/** RFC 8414 §2 authorization server metadata, built once. */
export function buildMetadata(issuer: string, paths: DiscoveryPaths, grantTypes: string[], scopes: string[]): Record<string, unknown> {
  const authMethods = ['client_secret_basic', 'client_secret_post']
  return {
    issuer,
    token_endpoint: issuer + paths.token,
    introspection_endpoint: issuer + paths.introspection,
    revocation_endpoint: issuer + paths.revocation,
    jwks_uri: issuer + paths.jwks,
    // No authorization endpoint: Gatehouse issues tokens to clients, not through browsers.
    response_types_supported: [],
    grant_types_supported: grantTypes,
    token_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    scopes_supported: scopes,
    // RFC 9068 access tokens are signed with ES256.
    access_token_signing_alg_values_supported: ['ES256'],
  }
}

export function registerDiscoveryRoutes(app: FastifyInstance, metadata: Record<string, unknown>): void {
  const body = JSON.stringify(metadata)
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body))
  }
}
