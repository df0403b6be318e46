/**
 * The peer in `npm run bench -- peers`: node-oidc-provider (panva, the certified OpenID
 * Provider for Node), as a deployment would start it for machine-to-machine tokens: its
 * in-memory adapter (the default), client_credentials on, one confidential client
 * (client_secret_basic). Without a `resource` parameter the token is opaque (a record in the
 * adapter, as Gatehouse's opaque tokens are rows); with `resource=https://api.bench/` it is a
 * JWT signed with ES256 (RFC 8707 resource indicators: the provider's way to issue JWT
 * access tokens). It writes no line per request (it has no access log of its own).
 *
 * `node --import tsx bench/servers/oidc-provider.ts PORT CLIENT_ID CLIENT_SECRET`
 */
import { generateKeyPairSync } from 'node:crypto'
import Provider from 'oidc-provider'

const [port = '0', clientId = 'bench', clientSecret = 'bench-secret'] = process.argv.slice(2)
const RESOURCE = 'https://api.bench/'

const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' }
// The provider signs ID tokens with RS256 unless told otherwise; an RSA key keeps its defaults.
const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' }

const provider = new Provider(`http://127.0.0.1:${port}`, {
  ttl: { ClientCredentials: 3600 },
  clients: [{ client_id: clientId, client_secret: clientSecret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'api' }],
  scopes: ['api'],
  jwks: { keys: [rsa, ec] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource named: no resource server, so the token stays opaque.
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`)
        return { scope: 'api', audience: RESOURCE, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } }
      },
    },
  },
})
const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
