import type { FastifyInstance } from 'fastify'
import { declarationSchema, SCHEMA_PATH } from '../../config-as-code/schema.js'

/**
 * The JSON Schema of `gatehouse apply` files, at a stable URL under the issuer, so that an
 * editor (`# yaml-language-server: $schema=…`, the first line of an exported file) checks and
 * completes a file as it is typed. The same schema ships as schema/gatehouse.schema.json.
 */
export function registerSchemaRoute(app: FastifyInstance, issuer: string): void {
  const url = `${issuer.replace(/\/+$/, '')}${SCHEMA_PATH}`
  const body = JSON.stringify(declarationSchema(url))
  app.get(SCHEMA_PATH, async (_request, reply) =>
    // RFC 9110 §8.3: JSON Schema's own media type (draft 2020-12 §13.1 registers it).
    reply.header('content-type', 'application/schema+json; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body),
  )
}
