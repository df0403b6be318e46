import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { expressBearerAuth } from '../../src/sdk/express.js'
import { fastifyBearerAuth } from '../../src/sdk/fastify.js'
import type { Verifier } from '../../src/sdk/verify.js'

/** A fetch that records every request it passes on (URL, method, form body). */
export interface RecordedCall {
  url: string
  method: string
  body: string
  headers: Headers
  status?: number
  /** The answer's body, as text. */
  answer?: string
}

/** A fetch that records every request it passes on, and the answer. */
export interface RecordingFetch {
  fetch: typeof globalThis.fetch
  calls: RecordedCall[]
  /** Requests whose URL path is `path`. */
  to(path: string): RecordedCall[]
}

export function recordingFetch(): RecordingFetch {
  const calls: RecordedCall[] = []
  return {
    calls,
    fetch: async (input, init) => {
      const call: RecordedCall = {
        url: String(input),
        method: init?.method ?? 'GET',
        body: typeof init?.body === 'string' ? init.body : '',
        headers: new Headers(init?.headers),
      }
      calls.push(call)
      const response = await fetch(input, init)
      call.status = response.status
      call.answer = await response.clone().text()
      return response
    },
    to: (path) => calls.filter((call) => new URL(call.url).pathname === path),
  }
}

/** The grant_type of each recorded form request to `path`. */
export function grantTypes(recorder: RecordingFetch, path: string): (string | null)[] {
  return recorder.to(path).map((call) => new URLSearchParams(call.body).get('grant_type'))
}

/** A signing key of a fake issuer, with its public JWK. */
export interface TestKey {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } }
}

/** Serves `{"keys": […]}` from a list the test can change, counting fetches. */
export interface JwksServer {
  url: string
  keys: JWK[]
  fetches: number
  close(): Promise<void>
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state: JwksServer = { url: '', keys, fetches: 0, close: async () => undefined }
  const server = createServer((_request, response) => {
    state.fetches++
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  state.url = `${await listen(server)}/.well-known/jwks.json`
  state.close = () => closeServer(server)
  return state
}

/** Signs a JWT access token as the issuer would; `header` and `claims` override the defaults. */
export async function signToken(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey)
}

/** The same protected resource behind the Fastify plugin and behind the Express middleware. */
export interface ProtectedApps {
  fastify: string
  express: string
  close(): Promise<void>
}

export async function startProtectedApps(verifier: Verifier, realm: string, requiredScopes: string[] = [], publicUrl?: string): Promise<ProtectedApps> {
  const fastifyApp: FastifyInstance = Fastify()
  await fastifyApp.register(fastifyBearerAuth, { verifier, realm, requiredScopes, ...(publicUrl !== undefined ? { publicUrl } : {}) })
  fastifyApp.get('/whoami', async (request) => describeToken(request.accessToken))
  const fastifyUrl = await fastifyApp.listen({ host: '127.0.0.1', port: 0 })

  const expressApp = express()
  expressApp.use(expressBearerAuth({ verifier, realm, requiredScopes, ...(publicUrl !== undefined ? { publicUrl } : {}) }))
  expressApp.get('/whoami', (request, response) => {
    response.json(describeToken(request.accessToken))
  })
  // Errors that are not the token's fault (JWKS unreachable) arrive here through next(error).
  expressApp.use((_error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    response.status(500).json({ error: 'server_error' })
  })
  const expressServer = createServer(expressApp)
  const expressUrl = await listen(expressServer)
  return {
    fastify: fastifyUrl,
    express: expressUrl,
    async close() {
      await fastifyApp.close()
      await closeServer(expressServer)
    },
  }
}

function describeToken(token: { format: string; subject: string; clientId: string; scopes: string[] } | null | undefined): Record<string, unknown> {
  return token ? { format: token.format, subject: token.subject, clientId: token.clientId, scopes: token.scopes } : { token: null }
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
}
