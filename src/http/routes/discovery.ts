import { DPOP_ALGS } from '../../core/dpop/dpop-proof.js'
import type { FastifyInstance } from 'fastify'
import { ASSERTION_SIGNING_ALGS } from '../../core/credentials/client-jwks.js'
import { SIGNING_ALGS } from '../../core/types.js'

export interface DiscoveryPaths {
  token: string
  introspection: string
  revocation: string
  jwks: string
  authorization: string
  pushedAuthorizationRequest: string
  endSession: string
  userinfo: string
  /** RFC 8628 §3.1. */
  deviceAuthorization: string
}

/** RFC 8414 §3.2: "Claims with zero elements MUST be omitted from the response." */
function withoutEmptyArrays(document: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(document).filter(([, value]) => !(Array.isArray(value) && value.length === 0)))
}

/** RFC 8414 §2 authorization server metadata, built once. */
export function buildMetadata(issuer: string, paths: DiscoveryPaths, grantTypes: string[], scopes: string[]): Record<string, unknown> {
  // RFC 7523 §2.2: a confidential client may sign an assertion instead of sending a secret.
  const confidentialMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']
  const assertionAlgs = [...ASSERTION_SIGNING_ALGS]
  return withoutEmptyArrays({
    issuer,
    authorization_endpoint: issuer + paths.authorization,
    token_endpoint: issuer + paths.token,
    introspection_endpoint: issuer + paths.introspection,
    revocation_endpoint: issuer + paths.revocation,
    jwks_uri: issuer + paths.jwks,
    pushed_authorization_request_endpoint: issuer + paths.pushedAuthorizationRequest,
    // RFC 8628 §4: where a device starts the device authorization grant.
    device_authorization_endpoint: issuer + paths.deviceAuthorization,
    grant_types_supported: grantTypes,
    // Authorization code only: no implicit or hybrid flow (RFC 9700 §2.1.2).
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // RFC 7636 with S256 only (RFC 9700 §2.1.1).
    code_challenge_methods_supported: ['S256'],
    // `none`: public clients (SPAs, native apps, CLIs) at the token endpoint, with PKCE.
    token_endpoint_auth_methods_supported: [...confidentialMethods, 'none'],
    introspection_endpoint_auth_methods_supported: confidentialMethods,
    revocation_endpoint_auth_methods_supported: [...confidentialMethods, 'none'],
    // RFC 8414 §2: the JWS algorithms of private_key_jwt assertions; never none or HS*.
    token_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    introspection_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    revocation_endpoint_auth_signing_alg_values_supported: assertionAlgs,
    scopes_supported: scopes,
    // RFC 9068 §2.1 access tokens: ES256 by default, RS256 for the clients that choose it.
    access_token_signing_alg_values_supported: [...SIGNING_ALGS],
    // RFC 9207 §3: the authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1: the algorithms of DPoP proofs the token endpoint accepts.
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
  })
}

/**
 * `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3): the RFC 8414 document
 * plus what an OpenID provider adds — UserInfo, ID token algorithms (ES256, or RS256 for a
 * client that chose it; Discovery requires RS256 be listed), public subject identifiers, the
 * claims, and RP-initiated logout.
 */
export function buildOpenIdConfiguration(metadata: Record<string, unknown>, issuer: string, paths: DiscoveryPaths): Record<string, unknown> {
  return {
    ...metadata,
    userinfo_endpoint: issuer + paths.userinfo,
    end_session_endpoint: issuer + paths.endSession,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'name', 'email'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
  }
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
