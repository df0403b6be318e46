import type { FastifyInstance } from 'fastify'
import { SIGNING_ALGS } from '../../core/types.js'

export interface DiscoveryPaths {
  token: string
  introspection: string
  revocation: string
  jwks: string
}

/** RFC 8414 §3.2: "Claims with zero elements MUST be omitted from the response." */
function withoutEmptyArrays(document: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(document).filter(([, value]) => !(Array.isArray(value) && value.length === 0)))
}

/**
 * RFC 8414 §2 authorization server metadata, built once.
 *
 * `response_types_supported` is REQUIRED by §2, but it lists what the authorization endpoint
 * answers, and Gatehouse has none (it issues tokens to clients, not through browsers); an empty
 * array breaks §3.2 and any other value would be false. So it is left out: a client that looks
 * for it learns the truth, that no response type is served.
 */
export function buildMetadata(issuer: string, paths: DiscoveryPaths, grantTypes: string[], scopes: string[]): Record<string, unknown> {
  const authMethods = ['client_secret_basic', 'client_secret_post']
  return withoutEmptyArrays({
    issuer,
    token_endpoint: issuer + paths.token,
    introspection_endpoint: issuer + paths.introspection,
    revocation_endpoint: issuer + paths.revocation,
    jwks_uri: issuer + paths.jwks,
    grant_types_supported: grantTypes,
    token_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    scopes_supported: scopes,
    // RFC 9068 §2.1 access tokens: ES256 by default, RS256 for the clients that choose it.
    access_token_signing_alg_values_supported: [...SIGNING_ALGS],
  })
}

/**
 * `/.well-known/openid-configuration`: the RFC 8414 document plus `userinfo_endpoint` when the
 * IdentityServer dialect serves UserInfo, so OpenID clients (openid-client's `discovery()`)
 * find it. Gatehouse is no OpenID provider — no authorization endpoint, no ID tokens — so the
 * Discovery 1.0 members about those (`authorization_endpoint`, `response_types_supported`,
 * `subject_types_supported`, `id_token_signing_alg_values_supported`) are omitted rather than
 * filled with empty or false values.
 */
export function buildOpenIdConfiguration(metadata: Record<string, unknown>, userinfoEndpoint: string | undefined): Record<string, unknown> {
  return userinfoEndpoint === undefined ? metadata : { ...metadata, userinfo_endpoint: userinfoEndpoint }
}

/** The path of an issuer URL without its trailing slash: '' for `https://host`, `/tenant1` for `https://host/tenant1`. */
function issuerPath(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, '')
}

/**
 * RFC 8414 §3.1: the metadata of an issuer with a path lives at the well-known prefix followed by
 * that path (`/.well-known/oauth-authorization-server/tenant1`). The plain prefix keeps answering
 * too (a proxy that maps `https://host/tenant1/*` to this server's root sends
 * `/tenant1/.well-known/…` there). OpenID Discovery §4 appends instead of inserting, so
 * `/.well-known/openid-configuration` is served at the root and, for a path issuer, under it.
 */
export function registerDiscoveryRoutes(app: FastifyInstance, issuer: string, metadata: Record<string, unknown>, openid: Record<string, unknown>): void {
  const path = issuerPath(issuer)
  const serve = (paths: string[], document: Record<string, unknown>): void => {
    const body = JSON.stringify(document)
    for (const route of new Set(paths)) {
      app.get(route, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body))
    }
  }
  serve(['/.well-known/oauth-authorization-server', `/.well-known/oauth-authorization-server${path}`], metadata)
  serve(['/.well-known/openid-configuration', `${path}/.well-known/openid-configuration`], openid)
}
