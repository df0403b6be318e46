import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { snippet, type SnippetLanguageId } from '../../src/snippets/index.js'
import type { Paths } from '../../src/http/routes/reference/request-examples.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { endpointRequest, TOKEN_ENDPOINTS } from './token-endpoints.js'

const run = promisify(execFile)
const DIR = join(import.meta.dirname, '..', '..', '.tmp', `snippets-syntax-${process.pid}`)

/**
 * The languages whose snippets are only compiled or parsed (curl, Node and Python run in
 * snippets-run.test.ts). Go (golang-go, 450 MB installed), C# (Debian has no compiler for
 * C# 9's top-level statements) and Swift (not in Debian) are not checked: .ci/run does not
 * install them, see docs/design.md ("Snippets").
 */
const CHECKS: { id: SnippetLanguageId; tool: string; extension: string; wrap?: (source: string, name: string) => string; check: (files: string[]) => [string, string[]] }[] = [
  { id: 'javascript', tool: 'node', extension: 'mjs', check: (files) => ['sh', ['-c', files.map((file) => `node --check '${file}'`).join(' && ')]] },
  {
    id: 'java',
    tool: 'javac',
    extension: 'java',
    // java.net.http's snippet is a method body: it compiles inside a main method.
    wrap: (source, name) => `import java.net.URI;\nimport java.net.http.HttpClient;\nimport java.net.http.HttpRequest;\nimport java.net.http.HttpResponse;\n\npublic class ${name} {\n  public static void main(String[] args) throws Exception {\n${source}\n  }\n}\n`,
    check: (files) => ['javac', ['-d', join(DIR, 'classes'), ...files]],
  },
  { id: 'ruby', tool: 'ruby', extension: 'rb', check: (files) => ['sh', ['-c', files.map((file) => `ruby -c '${file}' >/dev/null`).join(' && ')]] },
  { id: 'php', tool: 'php', extension: 'php', check: (files) => ['sh', ['-c', files.map((file) => `php -l '${file}' >/dev/null`).join(' && ')]] },
]

const installed = (tool: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('the generated snippets of every token endpoint compile or parse', () => {
  let server: TestServer
  let document: { paths: Paths }

  before(async () => {
    mkdirSync(DIR, { recursive: true })
    server = await startTestServer()
    document = (await request(`${server.url}/openapi.json`)).body as typeof document
  })
  after(async () => {
    rmSync(DIR, { recursive: true, force: true })
    await server?.close()
  })

  for (const language of CHECKS) {
    const present = installed(language.tool)
    // With CI set a missing tool is a failure: .ci/run installs every one of them.
    it(`in ${language.id} (${language.tool})`, { skip: !present && !process.env.CI ? `${language.tool} is not installed: ${language.id} snippets not checked` : false }, async () => {
      assert.ok(present, `${language.tool} is missing (CI): .ci/run should have installed it`)
      const files = TOKEN_ENDPOINTS.map((endpoint, index) => {
        const name = `Snippet${index}`
        const source = snippet(endpointRequest(document, server, endpoint, { clientId: 'CLIENT_ID', clientSecret: 'CLIENT_SECRET', apiKey: 'API_KEY', refreshToken: 'REFRESH_TOKEN' }), language.id)
        const file = join(DIR, `${name}.${language.extension}`)
        writeFileSync(file, language.wrap ? language.wrap(source, name) : source)
        return file
      })
      const [command, args] = language.check(files)
      await run(command, args, { timeout: 120_000 })
    })
  }
})
