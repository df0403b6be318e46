import type { FastifyInstance } from 'fastify'
import { html, page, PAGE_HEADERS } from './console/html.js'

/** `/`: where a person who opens the server's address lands — links to what is here, not a JSON 404. */
export function registerLandingPage(app: FastifyInstance, issuer: string): void {
  const body = page({
    title: 'Gatehouse',
    area: 'authorization server',
    home: '/',
    body: html`<h1>Gatehouse</h1>
<p class="muted">The authorization server of this platform: applications get their tokens here, and people sign in here.</p>
<div class="card">
<ul class="links">
<li><a href="/console">Developer console</a> — create applications and API keys, see connected apps</li>
<li><a href="/docs">API reference</a> — every endpoint, with requests you can try</li>
<li><a href="/.well-known/openid-configuration">OpenID configuration</a> — the endpoints an OAuth or OpenID Connect library discovers</li>
<li><a href="/.well-known/jwks.json">Public keys (JWKS)</a> — what APIs verify tokens with</li>
</ul>
<p class="muted">Issuer: <span class="mono">${issuer}</span></p>
</div>`,
  })
  app.get('/', { schema: { tags: ['Console'], summary: 'Landing page', description: 'Links to the console, the API reference, the discovery document and the keys.', produces: ['text/html'] } }, async (_request, reply) => reply.headers(PAGE_HEADERS).send(body))
}
