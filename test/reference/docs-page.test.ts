import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import { acceptsGzip, readScalarManifest } from '../../src/http/routes/reference/scalar-bundle.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const ROOT = join(import.meta.dirname, '..', '..')
const BUNDLE = join(ROOT, 'dist', 'web', 'scalar', 'standalone.js')
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

/** Raw fetch: Node's fetch would decode gzip itself and hide what was sent. */
async function get(url: string, headers: Record<string, string> = {}) {
  const { request } = await import('node:http')
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    request(url, { headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }))
    }).on('error', reject).end()
  })
}

describe('/docs and the Scalar bundle', () => {
  let server: TestServer
  const manifest = readScalarManifest()

  before(async () => {
    // `npm test` builds first (pretest); run alone, this file needs `npm run build`.
    assert.ok(manifest, 'dist/web/scalar/manifest.json is missing: run `npm run build`')
    server = await startTestServer()
  })
  after(() => server?.close())

  it('serves the shell page with its own CSP: scripts from this origin only, inline styles for Scalar', async () => {
    const answer = await get(`${server.url}/docs`)
    assert.equal(answer.status, 200)
    assert.deepEqual(
      [answer.headers['content-type'], answer.headers['content-security-policy'], answer.headers['x-frame-options'], answer.headers['cache-control'], answer.headers['x-content-type-options']],
      ['text/html; charset=utf-8', CSP, 'DENY', 'no-store', 'nosniff'],
    )
    const html = answer.body.toString('utf8')
    assert.ok(html.includes(`<script defer src="/assets/scalar/${manifest?.hash}/standalone.js"></script>\n<script type="module" src="/assets/docs.js"></script>`), html)
    // No inline script at all, and nothing from another origin.
    assert.deepEqual(html.match(/<script[^>]*>/g), [`<script defer src="/assets/scalar/${manifest?.hash}/standalone.js">`, '<script type="module" src="/assets/docs.js">'])
    assert.equal(/https?:\/\//.test(html), false)
  })

  it('serves the bundle gzipped and cached for a year under its content hash', async () => {
    const plain = readFileSync(BUNDLE)
    const zipped = await get(`${server.url}${manifest?.path}`, { 'accept-encoding': 'gzip, deflate, br' })
    assert.deepEqual(
      [zipped.status, zipped.headers['content-type'], zipped.headers['content-encoding'], zipped.headers['cache-control'], zipped.headers.vary, zipped.headers['x-content-type-options']],
      [200, 'text/javascript; charset=utf-8', 'gzip', 'public, max-age=31536000, immutable', 'accept-encoding', 'nosniff'],
    )
    assert.ok(gunzipSync(zipped.body).equals(plain))
    assert.ok(zipped.body.length < plain.length / 3, `${zipped.body.length} of ${plain.length} bytes`)
    const identity = await get(`${server.url}${manifest?.path}`, { 'accept-encoding': 'identity' })
    assert.deepEqual([identity.status, identity.headers['content-encoding']], [200, undefined])
    assert.ok(identity.body.equals(plain))
    // The build dropped the source map comment (the 20 MB map is not shipped).
    assert.equal(plain.toString('utf8').includes('sourceMappingURL'), false)
  })

  it('answers 404 in plain text for any other hash or file name (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9a-z._~-]{1,40}$/), fc.constantFrom('standalone.js', 'standalone.js.gz', 'manifest.json', 'x.js'), async (hash, file) => {
        // '.' and '..' are dot segments: the URL resolves them away before anything is sent.
        fc.pre(!(hash === manifest?.hash && file === 'standalone.js') && hash !== '.' && hash !== '..')
        const answer = await get(`${server.url}/assets/scalar/${hash}/${file}`)
        assert.equal(answer.status, 404)
        assert.equal(answer.headers['content-type'], 'text/plain; charset=utf-8')
        assert.equal(answer.headers['cache-control'], undefined)
      }),
      { numRuns: 60 },
    )
  })

  it('sends gzip exactly when Accept-Encoding allows it (property)', async () => {
    const coding = fc.record({ name: fc.constantFrom('gzip', 'x-gzip', 'br', 'deflate', 'identity', '*', 'zstd'), q: fc.option(fc.constantFrom('0', '0.0', '0.5', '1', '1.000', 'x')) })
    await fc.assert(
      fc.asyncProperty(fc.array(coding, { maxLength: 4 }), async (codings) => {
        const header = codings.map((entry) => (entry.q === null ? entry.name : `${entry.name};q=${entry.q}`)).join(', ')
        const answer = await get(`${server.url}${manifest?.path}`, header === '' ? {} : { 'accept-encoding': header })
        assert.equal(answer.status, 200)
        assert.equal(answer.headers['content-encoding'] === 'gzip', acceptsGzip(header === '' ? undefined : header))
        const body = answer.headers['content-encoding'] === 'gzip' ? gunzipSync(answer.body) : answer.body
        assert.equal(body.length, manifest?.hash ? readFileSync(BUNDLE).length : -1)
      }),
      { numRuns: 25 },
    )
  })

  it('reads Accept-Encoding as RFC 9110 §12.5.3 says', () => {
    assert.deepEqual(
      ['gzip', 'gzip;q=0', 'br, gzip;q=0.5', '*', '*;q=0', 'identity', '', undefined, 'GZIP', 'x-gzip', 'gzip;q=0, *'].map((header) => acceptsGzip(header)),
      [true, false, true, true, false, false, false, false, true, true, false],
    )
  })
})
