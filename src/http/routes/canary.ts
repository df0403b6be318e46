import type { FastifyInstance } from 'fastify'
import type { Engine } from '../../core/engine.js'
import type { CanaryPaths } from '../../dialect-config.js'
import {
  canary,
  formatV2Tokens,
  formatV3Refresh,
  formatV3Tokens,
  keyRequest,
  parseLogin,
  readApiKey,
  readRefreshToken,
  refreshRequest,
} from '../dialects/canary.js'
import { send } from '../dialects/dialect.js'

/**
 * Contract 2. The routes live in their own Fastify context whose only body parser reads any
 * content type as text: Canary's clients send no body, `null`, or `{}`, often with a JSON
 * content type and an empty body, which Fastify's JSON parser would refuse.
 */
export async function registerCanaryRoutes(app: FastifyInstance, engine: Engine, paths: CanaryPaths): Promise<void> {
  await app.register(async (context) => {
    context.removeAllContentTypeParsers()
    context.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
    const config = { shaper: canary, requiresTls: true }

    context.post(paths.requestTokens, { config }, async (request, reply) => {
      const result = await engine.token({ ...keyRequest(readApiKey(request)), origin: { ip: request.ip } })
      return send(reply, formatV2Tokens(result))
    })

    context.post(paths.refreshTokens, { config }, async (request, reply) => {
      const result = await engine.token({ ...refreshRequest(readRefreshToken(request)), origin: { ip: request.ip } })
      return send(reply, formatV2Tokens(result))
    })

    context.post(paths.getTokens, { config }, async (request, reply) => {
      const apiKey = readApiKey(request)
      const login = parseLogin(request.body)
      const result = await engine.token({ ...keyRequest(apiKey, login), origin: { ip: request.ip } })
      return send(reply, formatV3Tokens(result, login.projectId ?? apiKey.trim().split(':')[0] ?? ''))
    })

    context.post(paths.refreshTokensV3, { config }, async (request, reply) => {
      const result = await engine.token({ ...refreshRequest(readRefreshToken(request)), origin: { ip: request.ip } })
      return send(reply, formatV3Refresh(result))
    })
  })
}
