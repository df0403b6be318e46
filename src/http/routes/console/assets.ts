import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

/** The project root, whether this runs from src/ (tsx) or dist/ (tsc output): both sit two levels below it. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')

/** Browser files: scripts compiled by `npm run build` (tsconfig.web.json), the stylesheet as written. */
const ASSETS = {
  'console.js': { file: join(ROOT, 'dist', 'web', 'console.js'), type: 'text/javascript; charset=utf-8' },
  'docs.js': { file: join(ROOT, 'dist', 'web', 'docs.js'), type: 'text/javascript; charset=utf-8' },
  'gatehouse.css': { file: join(ROOT, 'web', 'gatehouse.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: join(ROOT, 'web', 'favicon.svg'), type: 'image/svg+xml' },
} as const

export const ASSET_PREFIX = '/assets'

/** Serves the console's and the reference's static files, read once at start-up. */
export function registerAssets(app: FastifyInstance): void {
  const loaded = new Map<string, { body: string; type: string }>()
  for (const [name, asset] of Object.entries(ASSETS)) {
    if (existsSync(asset.file)) loaded.set(name, { body: readFileSync(asset.file, 'utf8'), type: asset.type })
    else app.log.warn({ file: asset.file }, 'console asset missing: run `npm run build`')
  }
  app.get<{ Params: { name: string } }>(
    `${ASSET_PREFIX}/:name`,
    {
      schema: {
        tags: ['Console'],
        summary: 'Static files of the console and the API reference',
        params: { type: 'object', properties: { name: { type: 'string', enum: Object.keys(ASSETS) } }, required: ['name'] },
        produces: ['text/javascript', 'text/css', 'image/svg+xml'],
      },
      // Plain 404s here: these are files, not API answers.
      config: { shaper: { name: 'asset', formatError: () => ({ status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' }) } },
    },
    async (request, reply) => {
      const asset = loaded.get(request.params.name)
      if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found: run `npm run build`')
      return reply.type(asset.type).header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff').send(asset.body)
    },
  )
  // Browsers ask for /favicon.ico whatever the pages say: the same icon.
  app.get('/favicon.ico', { schema: { tags: ['Console'], summary: 'The icon', produces: ['image/svg+xml'] } }, async (_request, reply) => {
    const icon = loaded.get('favicon.svg')
    if (!icon) return reply.code(404).type('text/plain; charset=utf-8').send('Not found')
    return reply.type(icon.type).header('cache-control', 'public, max-age=86400').header('x-content-type-options', 'nosniff').send(icon.body)
  })
}
