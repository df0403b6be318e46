import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { snippet, type SnippetLanguageId } from '../../src/snippets/index.js'
import type { Paths } from '../../src/http/routes/reference/request-examples.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { createCredentials, endpointRequest, freshRefreshToken, TOKEN_ENDPOINTS, type Credentials } from './token-endpoints.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
// Inside the project, so that the Node snippet's `import axios` finds node_modules.
const DIR = join(ROOT, '.tmp', `snippets-run-${process.pid}`)

/**
 * The snippets print the answer as their language shows a value (Python's dict repr, Node's
 * util.inspect); these preludes make print / console.log write JSON instead, so the test can
 * read the answer. The snippet itself runs unchanged.
 */
const NODE_PRELUDE = "console.log = (value) => process.stdout.write(JSON.stringify(value) + '\\n')\n"
const PYTHON_PRELUDE = [
  'import builtins, json, runpy, sys',
  'show = builtins.print',
  'builtins.print = lambda value, *rest, **options: show(json.dumps(value) if isinstance(value, (dict, list)) else value)',
  "runpy.run_path(sys.argv[1], run_name='__main__')",
].join('\n')

const RUNNERS: Record<'curl' | 'node' | 'python', { extension: string; command: (file: string) => [string, string[]] }> = {
  curl: { extension: 'sh', command: (file) => ['sh', [file]] },
  node: { extension: 'mjs', command: (file) => ['node', ['--import', join(DIR, 'prelude.mjs'), file]] },
  python: { extension: 'py', command: (file) => ['python3', ['-c', PYTHON_PRELUDE, file]] },
}

describe('the generated snippets of every token endpoint, run against the real server', () => {
  let server: TestServer
  let document: { paths: Paths }
  let credentials: Credentials

  before(async () => {
    mkdirSync(DIR, { recursive: true })
    writeFileSync(join(DIR, 'prelude.mjs'), NODE_PRELUDE)
    server = await startTestServer()
    credentials = await createCredentials(server)
    document = (await request(`${server.url}/openapi.json`)).body as typeof document
  })
  after(async () => {
    rmSync(DIR, { recursive: true, force: true })
    await server?.close()
  })

  /** The status the server logged for the last request to this path. */
  const loggedStatus = (path: string): number | undefined => {
    const lines = server.logs.lines.map((line) => JSON.parse(line) as { msg?: string; req?: { path?: string }; res?: { statusCode?: number } })
    return lines.filter((line) => line.msg === 'request completed' && line.req?.path === path).at(-1)?.res?.statusCode
  }

  for (const endpoint of TOKEN_ENDPOINTS) {
    for (const language of ['curl', 'node', 'python'] as const satisfies readonly SnippetLanguageId[]) {
      it(`${endpoint.name} (POST ${endpoint.path}${endpoint.mediaType ? `, ${endpoint.mediaType}` : ''}) in ${language} gets a token`, async () => {
        const refreshToken = endpoint.refresh ? await freshRefreshToken(server, credentials, endpoint.refresh) : undefined
        const source = snippet(endpointRequest(document, server, endpoint, { ...credentials, ...(refreshToken ? { refreshToken } : {}) }), language)
        const runner = RUNNERS[language]
        const file = join(DIR, `${endpoint.name}.${runner.extension}`)
        writeFileSync(file, source)
        const before = server.logs.lines.length
        const [command, args] = runner.command(file)
        const { stdout, stderr } = await run(command, args, { timeout: 30_000 })
        // curl writes its progress meter to stderr when stdout is not a terminal: only the others must be silent.
        if (language !== 'curl') assert.equal(stderr, '', `${language} wrote to stderr:\n${stderr}\n--- snippet:\n${source}`)
        assert.ok(server.logs.lines.length > before, 'the snippet reached the server')
        assert.equal(loggedStatus(endpoint.path), 200, stdout)
        endpoint.check(JSON.parse(stdout))
      })
    }
  }
})
