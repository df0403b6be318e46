import type { FastifyInstance } from 'fastify'
import { html, page, PAGE_HEADERS } from '../console/html.js'

export const DOCS_PATH = '/docs'

/**
 * The interactive reference: a shell page; /assets/docs.js reads /openapi.json and builds the
 * operation list, the try-it form and the curl / JavaScript / Python / Go samples.
 */
export function registerDocsPage(app: FastifyInstance): void {
  const body = page({
    title: 'API reference',
    script: 'docs.js',
    wide: true,
    area: 'API reference',
    header: html`<a href="/openapi.json">openapi.json</a>`,
    body: html`<div class="reference">
<nav aria-label="Operations"><h2 id="title">API reference</h2>
<p class="muted">Every endpoint of every dialect and the management API.</p>
<div id="operations"></div></nav>
<section>
<div class="card tokenbar"><label for="token"><strong>Bearer token</strong></label><input id="token" type="password" autocomplete="off" placeholder="paste an operator token (audience ISSUER/admin/v1)"><small class="muted">Kept in this tab only.</small></div>
<div id="operation"><p class="muted">Loading /openapi.json…</p><noscript>The interactive reference needs JavaScript; the document itself is at /openapi.json.</noscript></div>
</section>
</div>`,
  })
  app.get(DOCS_PATH, { schema: { tags: ['Reference'], summary: 'Interactive API reference', produces: ['text/html'] } }, async (_request, reply) => reply.headers(PAGE_HEADERS).send(body))
}
