import type { FastifyInstance } from 'fastify'
import { escape, PAGE_HEADERS } from '../console/html.js'
import { readScalarManifest, registerScalarBundle } from './scalar-bundle.js'

export const DOCS_PATH = '/docs'

/**
 * The reference page's CSP: the console's, with one exception, on this page only: styles may
 * be inline. Scalar writes its styles at run time: its main stylesheet as a <style> element
 * (which it would stamp with a nonce), but also its theme's and its toaster's <style> elements
 * (no nonce) and style attributes, and a nonce in style-src would switch 'unsafe-inline' off
 * (CSP3 §6.7.3.3). Inline styles cannot run code; scripts stay 'self' only (the bundle is served
 * from here; Scalar's one eval() probe is refused and it works without), connect-src 'self'
 * keeps "try it" and the bundle from reaching anything but this server, and nothing posts forms.
 */
export const DOCS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...PAGE_HEADERS,
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
}

/** The shell of /docs: Scalar's bundle, then /assets/docs.js, which mounts it on /openapi.json. */
export function docsPage(scalarPath: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Gatehouse</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${scalarPath ? `<script defer src="${escape(scalarPath)}"></script>\n<script type="module" src="/assets/docs.js"></script>` : ''}
</head>
<body>
<div id="reference">${scalarPath ? '' : '<p>The interactive reference is not built (run <code>npm run build</code>); the document itself is at <a href="/openapi.json">/openapi.json</a>.</p>'}</div>
<noscript><p>The interactive reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
</body>
</html>
`
}

/** /docs, the interactive reference (Scalar), and the bundle it loads. */
export function registerDocsPage(app: FastifyInstance): void {
  const bundle = readScalarManifest()
  registerScalarBundle(app, bundle)
  const body = docsPage(bundle?.path)
  app.get(DOCS_PATH, { schema: { tags: ['Reference'], summary: 'Interactive API reference', produces: ['text/html'] } }, async (_request, reply) => reply.headers(DOCS_PAGE_HEADERS).send(body))
}
