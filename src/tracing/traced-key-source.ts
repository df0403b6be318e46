import type { ClientKeySource } from '../core/credentials/client-keys.js'
import type { Tracer } from '../core/tracer.js'

/**
 * A client span around each jwks_uri fetch (private_key_jwt, RFC 7523). It records the host and
 * port fetched from, never the path or query (a registration may put anything there).
 */
export function traceKeySource(source: ClientKeySource, tracer: Tracer): ClientKeySource {
  return {
    fetchJwks(uri: string): Promise<unknown> {
      let target: Record<string, string | number> = {}
      try {
        const url = new URL(uri)
        target = { 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)), 'url.scheme': url.protocol.replace(/:$/, '') }
      } catch {
        // Not a URL: the source refuses it; the span says only that a fetch was asked.
      }
      return tracer.span('GET jwks_uri', { kind: 'client', attributes: { 'http.request.method': 'GET', ...target } }, () => source.fetchJwks(uri))
    },
  }
}
