import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/** The project root, from src/ (tsx) or dist/ (tsc output): both four levels below it. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const DIR = join(ROOT, 'dist', 'web', 'scalar')

export const SCALAR_PREFIX = '/assets/scalar'

/** What scripts/copy-scalar.mjs wrote at build time; null before `npm run build`. */
export interface ScalarBundle {
  version: string
  hash: string
  /** Where the page loads it: the content hash in the path, so the answer may be cached for good. */
  path: string
}

export function readScalarManifest(): ScalarBundle | null {
  const file = join(DIR, 'manifest.json')
  if (!existsSync(file)) return null
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { version: string; hash: string }
  return { version: manifest.version, hash: manifest.hash, path: `${SCALAR_PREFIX}/${manifest.hash}/standalone.js` }
}

/** RFC 9110 §12.5.3: gzip unless the client lists it with q=0 or does not list it (nor `*`). */
export function acceptsGzip(header: string | undefined): boolean {
  const codings = new Map<string, number>()
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [name = '', ...parameters] = part.trim().split(';')
    const q = parameters.map((entry) => entry.trim()).find((entry) => entry.startsWith('q='))
    const weight = q === undefined ? 1 : Number(q.slice(2))
    if (name) codings.set(name, Number.isNaN(weight) ? 0 : weight)
  }
  const gzip = codings.get('gzip') ?? codings.get('x-gzip') ?? codings.get('*')
  return gzip !== undefined && gzip > 0
}

const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * Serves Scalar's standalone bundle (4.9 MB, 1.4 MB gzipped) from Gatehouse itself: no CDN,
 * so the reference's CSP can stay script-src 'self'. Read from disk on first use and kept.
 */
export function registerScalarBundle(app: FastifyInstance, bundle: ScalarBundle | null): void {
  let files: { plain: Buffer; gzip: Buffer } | undefined
  const load = () => (files ??= { plain: readFileSync(join(DIR, 'standalone.js')), gzip: readFileSync(join(DIR, 'standalone.js.gz')) })
  if (!bundle) app.log.warn({ dir: DIR }, 'the API reference bundle is missing: run `npm run build`')
  app.get<{ Params: { hash: string; file: string } }>(
    `${SCALAR_PREFIX}/:hash/:file`,
    {
      schema: {
        tags: ['Reference'],
        summary: 'The API reference\'s script (Scalar), cached for a year under its content hash',
        params: { type: 'object', properties: { hash: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'The first 16 hex digits of the bundle\'s SHA-256.' }, file: { type: 'string', enum: ['standalone.js'] } }, required: ['hash', 'file'] },
        produces: ['text/javascript'],
      },
      config: { shaper: { name: 'asset', formatError: () => ({ status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' }) } },
    },
    async (request: FastifyRequest<{ Params: { hash: string; file: string } }>, reply) => {
      // Another hash is another build's file: a 404, never this one under a name that promises other bytes.
      if (!bundle || request.params.hash !== bundle.hash) return reply.code(404).type('text/plain; charset=utf-8').send('Not found')
      const { plain, gzip } = load()
      reply.type('text/javascript; charset=utf-8').header('cache-control', IMMUTABLE).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff')
      if (acceptsGzip(request.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(gzip)
      return reply.send(plain)
    },
  )
}
