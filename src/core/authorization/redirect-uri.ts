import { ClientValidationError } from '../admin/client-validation-error.js'

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

/**
 * What a client may register as a redirect (or post-logout redirect) URI: an absolute URI
 * without a fragment (RFC 6749 §3.1.2), `https`, or `http` on a loopback host for native apps
 * and local development (RFC 8252 §7.3), or a private-use scheme with a period in it, as a
 * reversed domain name (RFC 8252 §7.1). At most 2,000 characters.
 */
export function checkRedirectUri(uri: string): void {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new ClientValidationError(`redirect URI ${JSON.stringify(uri)} is not an absolute URI`)
  }
  if (uri.length > 2000) throw new ClientValidationError('a redirect URI must be at most 2000 characters')
  if (uri.includes('#')) throw new ClientValidationError(`redirect URI ${uri} must not have a fragment (RFC 6749 §3.1.2)`)
  if (/\s/.test(uri)) throw new ClientValidationError(`redirect URI ${JSON.stringify(uri)} must not contain spaces`)
  const scheme = url.protocol.slice(0, -1)
  if (scheme === 'https') return
  if (scheme === 'http') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return
    throw new ClientValidationError(`redirect URI ${uri} must use https (http only on a loopback address, RFC 8252 §7.3)`)
  }
  if (scheme === 'javascript' || scheme === 'data' || scheme === 'file' || scheme === 'vbscript' || scheme === 'blob') {
    throw new ClientValidationError(`redirect URI scheme ${scheme}: is not allowed`)
  }
  if (!scheme.includes('.')) throw new ClientValidationError(`a private-use redirect URI scheme must be a reversed domain name such as com.example.app (RFC 8252 §7.1), not ${scheme}:`)
}

/** A loopback redirect URI whose port may vary (RFC 8252 §7.3): http on 127.0.0.1 or [::1]. */
function loopbackWithoutPort(uri: string): string | undefined {
  const match = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::\d{1,5})?(\/.*)?$/.exec(uri)
  return match ? `http://${match[1] ?? ''}${match[2] ?? ''}` : undefined
}

/**
 * Whether a requested redirect_uri is one the client registered: exact string comparison
 * (RFC 9700 §4.1.3), except that the port of a loopback IP redirect URI may differ, since a
 * native app listens on whichever port it is given (RFC 8252 §7.3).
 */
export function redirectUriRegistered(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true
  const loopback = loopbackWithoutPort(requested)
  return loopback !== undefined && registered.some((uri) => loopbackWithoutPort(uri) === loopback)
}
