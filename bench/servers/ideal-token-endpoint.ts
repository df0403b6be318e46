/**
 * The ceiling for the token benchmark: a bare Fastify endpoint that parses the form and signs
 * one ES256 JWT per request with a key imported once, the fastest way Node offers
 * (synchronous node:crypto over a pre-encoded header). No client lookup, no secret check.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import Fastify from 'fastify'
import formbody from '@fastify/formbody'

const port = Number(process.argv[2] ?? 0)
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'ceiling' })).toString('base64url')

const app = Fastify()
await app.register(formbody)
app.post('/oauth/token', async (request, reply) => {
  const body = request.body as Record<string, string>
  const iat = Math.floor(Date.now() / 1000)
  const claims = { iss: 'http://127.0.0.1', sub: 'client', aud: 'http://127.0.0.1', exp: iat + 3600, iat, jti: randomBytes(16).toString('base64url'), client_id: 'client', scope: body.scope ?? '' }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  return { access_token: `${input}.${signature}`, token_type: 'Bearer', expires_in: 3600, scope: claims.scope }
})
await app.listen({ host: '127.0.0.1', port })
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`)
