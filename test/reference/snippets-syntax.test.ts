import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createRequire } from 'node:module'
import { setFlagsFromString } from 'node:v8'
import { Language, Parser } from 'web-tree-sitter'
import { snippet, type SnippetLanguageId } from '../../src/snippets/index.js'
import type { Paths } from '../../src/http/routes/reference/request-examples.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { endpointRequest, TOKEN_ENDPOINTS } from './token-endpoints.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
// The grammars are large WebAssembly modules: compile them with the baseline compiler only.
// On Node 24 the optimising tier-up ran out of its zone memory after the checks had passed
// ("Fatal process out of memory: Zone") and took the test process down, so there they are not
// loaded at all; the Node 20 legs (SQLite and PostgreSQL) run them.
setFlagsFromString('--liftoff-only')
const GRAMMARS_SKIPPED = Number(process.versions.node.split('.')[0]) >= 23 ? 'tree-sitter grammars crash V8 on Node 24 (zone OOM in WebAssembly tier-up): checked on Node 20' : false
const DIR = join(import.meta.dirname, '..', '..', '.tmp', `snippets-syntax-${process.pid}`)

/**
 * The languages whose snippets are compiled or checked by their own tools (curl, Node and
 * Python run in snippets-run.test.ts). Go, C# and Swift are parsed with their tree-sitter
 * grammars below instead: golang-go is 450 MB installed, Debian's only C# compiler (mono's
 * mcs) stops before C# 9's top-level statements, and Swift is not in Debian.
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

/**
 * Go, C# and Swift: a syntax check with each language's tree-sitter grammar (prebuilt
 * WebAssembly from the tree-sitter-wasms devDependency, run by web-tree-sitter; nothing
 * native, nothing downloaded). A parse, not a compile: it catches what a compiler's parser
 * would (a missing brace, a stray token), not an unknown name.
 */
const GRAMMARS: { id: SnippetLanguageId; grammar: string }[] = [
  { id: 'go', grammar: 'go' },
  { id: 'csharp', grammar: 'c_sharp' },
  { id: 'swift', grammar: 'swift' },
]

/** Where the source fails to parse: the first error or missing node, as line:column and its text; undefined when it parses. */
async function syntaxError(grammar: string, source: string): Promise<string | undefined> {
  const language = await Language.load(require.resolve(`tree-sitter-wasms/out/tree-sitter-${grammar}.wasm`))
  const parser = new Parser()
  parser.setLanguage(language)
  const tree = parser.parse(source)
  parser.delete()
  if (!tree) return 'no parse tree'
  try {
    if (!tree.rootNode.hasError) return undefined
    const cursor = tree.walk()
    const visit = (): string | undefined => {
      const node = cursor.currentNode
      if (node.isError || node.isMissing) return `${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.isMissing ? `missing ${node.type}` : JSON.stringify(node.text.slice(0, 60))}`
      if (node.hasError && cursor.gotoFirstChild()) {
        do {
          const found = visit()
          if (found) return found
        } while (cursor.gotoNextSibling())
        cursor.gotoParent()
      }
      return undefined
    }
    return visit() ?? 'a parse error'
  } finally {
    tree.delete()
  }
}

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

  for (const { id, grammar } of GRAMMARS) {
    it(`in ${id} (tree-sitter-${grammar}): every snippet parses, and one with a brace taken out does not`, { skip: GRAMMARS_SKIPPED }, async () => {
      await Parser.init()
      for (const endpoint of TOKEN_ENDPOINTS) {
        const source = snippet(endpointRequest(document, server, endpoint, { clientId: 'CLIENT_ID', clientSecret: 'CLIENT_SECRET', apiKey: 'API_KEY', refreshToken: 'REFRESH_TOKEN' }), id)
        assert.equal(await syntaxError(grammar, source), undefined, `${endpoint.name}:\n${source}`)
        // The check can fail: the same snippet without its last closing brace is refused.
        const broken = source.slice(0, source.lastIndexOf('}')) + source.slice(source.lastIndexOf('}') + 1)
        assert.notEqual(await syntaxError(grammar, broken), undefined, `${endpoint.name}: a snippet without its last brace parsed`)
      }
    })
  }

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
