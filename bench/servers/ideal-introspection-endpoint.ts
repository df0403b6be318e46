/**
 * The ceiling for the introspection benchmark: a bare Fastify endpoint that parses the form
 * and verifies one ES256 JWT (the `token` parameter) with a public key imported once, by
 * synchronous node:crypto, then answers its claims — what an RFC 7662 endpoint must do at the
 * least for a self-contained token. No client authentication, no revocation check. Its keys
 * are the issuer's, read once from the JWKS URL it is given.
 *
 * `node --import tsx bench/servers/ideal-introspection-endpoint.ts PORT JWKS_URL`
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import Fastify from 'fastify'
import formbody from '@fastify/formbody'

const port = Number(process.argv[2] ?? 0)
const jwksUrl = process.argv[3] ?? ''
const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: ({ kid: string; kty: string } & Record<string, unknown>)[] }
const byKid = new Map<string, KeyObject>(keys.filter((key) => key.kty === 'EC').map((key) => [key.kid, createPublicKey({ key, format: 'jwk' })]))

const app = Fastify()
await app.register(formbody)
app.post('/oauth/introspect', async (request, reply) => {
  reply.header('cache-control', 'no-store')
  const token = (request.body as Record<string, string>).token ?? ''
  const [header = '', claims = '', signature = ''] = token.split('.')
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }
  const key = byKid.get(kid)
  if (!key || !verify('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) return { active: false }
  const payload = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { exp: number }
  if (payload.exp <= Date.now() / 1000) return { active: false }
  return { active: true, ...payload, token_type: 'Bearer' }
})
await app.listen({ host: '127.0.0.1', port })
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`)
