/** Where the management API lives under the issuer; the HTTP layer mounts it here. */
export const ADMIN_PATH = '/admin/v1'

/**
 * The reserved audience of Gatehouse's own management API: `<issuer>/admin/v1`. Tokens for
 * it are issued only to operators (operator-audience.ts); no tenant client or API key may
 * name it as its own audience. A resource identifier in the sense of RFC 8707 §2.
 */
export function adminAudience(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${ADMIN_PATH}`
}

/** True for the admin audience, with or without a trailing slash (so a near-copy is refused too). */
export function isAdminAudience(audience: string | null | undefined, issuer: string): boolean {
  return audience !== undefined && audience !== null && audience.replace(/\/+$/, '') === adminAudience(issuer)
}
