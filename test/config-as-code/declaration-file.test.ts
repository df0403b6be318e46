import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { declarationSchema } from '../../src/config-as-code/schema.js'
import { DeclarationFileError, parseDeclarationFile } from '../../src/config-as-code/declaration-file.js'
import { CLIENT_FIELDS } from '../../src/core/config-as-code/client-fields.js'

/** Reading a file: YAML, the shipped JSON Schema, and errors that name the line and the field. */

function problemsOf(text: string): string[] {
  try {
    parseDeclarationFile(text, 'gatehouse.yaml')
  } catch (error) {
    if (error instanceof DeclarationFileError) return error.problems
    throw error
  }
  assert.fail('the file was accepted')
}

describe('configuration-as-code files', () => {
  it('ships schema/gatehouse.schema.json as the schema the code builds (rewrite it with scripts/write-schema.ts)', () => {
    const shipped: unknown = JSON.parse(readFileSync(new URL('../../schema/gatehouse.schema.json', import.meta.url), 'utf8'))
    assert.deepEqual(shipped, declarationSchema())
  })

  it('declares every client field of the table, plus the id and secretFromEnv, and nothing else', () => {
    const schema = declarationSchema() as { properties: { clients: { items: { properties: Record<string, unknown>; additionalProperties: boolean } } } }
    assert.deepEqual(Object.keys(schema.properties.clients.items.properties).sort(), ['id', 'secretFromEnv', ...CLIENT_FIELDS.map((field) => field.key)].sort())
    assert.equal(schema.properties.clients.items.additionalProperties, false)
  })

  it('accepts a whole file and gives the line of any field', () => {
    const text = [
      'version: 1',
      'clients:',
      '  - id: worker',
      '    name: Worker',
      '    grantTypes: [client_credentials]',
      '    audience: null',
      'apis:',
      '  - identifier: https://api.example.com',
      '    name: Example',
      '    scopes:',
      '      - { name: read, description: Read things, selfService: true }',
      'operators:',
      '  - user: ana@example.com',
      '    role: admin',
      'dialects:',
      '  wrapped: { enabled: false, paths: { token: /v1/auth/token } }',
      '',
    ].join('\n')
    const file = parseDeclarationFile(text, 'gatehouse.yaml')
    assert.deepEqual(file.declaration, {
      version: 1,
      clients: [{ id: 'worker', name: 'Worker', grantTypes: ['client_credentials'], audience: null }],
      apis: [{ identifier: 'https://api.example.com', name: 'Example', scopes: [{ name: 'read', description: 'Read things', selfService: true }] }],
      operators: [{ user: 'ana@example.com', role: 'admin' }],
      dialects: { wrapped: { enabled: false, paths: { token: '/v1/auth/token' } } },
    })
    assert.deepEqual([file.lineOf(['clients', 0, 'grantTypes']), file.lineOf(['apis', 0, 'scopes', 0]), file.lineOf(['operators', 0, 'role']), file.lineOf(['clients', 0, 'missing'])], [5, 11, 14, 3])
  })

  it('refuses unknown fields, wrong values and missing fields, each with its line and field, in line order', () => {
    const text = [
      'clients:', // 1
      '  - id: worker', // 2
      '    name: Worker', // 3
      '    grantType: [client_credentials]', // 4  unknown (grantTypes)
      '    accessTokenTtl: soon', // 5  wrong type
      '    tokenFormat: paseto', // 6  not one of
      '    applicationType: robot', // 7  not one of, nor null
      '  - name: no id', // 8  missing id
      'apis:', // 9
      '  - identifier: https://api.example.com', // 10
      '    name: Example', // 11
      '    scopes: []', // 12 empty
      'operators:', // 13
      '  - user: ana@example.com', // 14
      '    client: worker', // 15
      '    role: admin', // 16
      'dialects:', // 17
      '  wrapped: { paths: { tokn: /x } }', // 18 unknown route
      'extra: true', // 19 unknown section
    ].join('\n')
    assert.deepEqual(problemsOf(text), [
      'gatehouse.yaml:4: clients[0].grantType: unknown field',
      'gatehouse.yaml:5: clients[0].accessTokenTtl: must be integer',
      'gatehouse.yaml:6: clients[0].tokenFormat: must be one of "jwt", "opaque"',
      'gatehouse.yaml:7: clients[0].applicationType: must be one of "web", "spa", "native", "device", "machine", "api_key" or null',
      'gatehouse.yaml:8: clients[1]: missing field id',
      'gatehouse.yaml:12: apis[0].scopes: must NOT have fewer than 1 items',
      'gatehouse.yaml:14: operators[0]: name exactly one of user and client',
      'gatehouse.yaml:18: dialects.wrapped.paths.tokn: unknown field',
      'gatehouse.yaml:19: extra: unknown field',
    ])
  })

  it('names the line of a nullable field given a wrong value, once, and of a YAML syntax error', () => {
    assert.deepEqual(problemsOf('clients:\n  - id: a\n    name: A\n    audience: 5\n'), ['gatehouse.yaml:4: clients[0].audience: must be string or null'])
    assert.deepEqual(problemsOf('clients:\n  - id: a\n    name: [unclosed\n'), ['gatehouse.yaml:4: Flow sequence in block collection must be sufficiently indented and end with a ]'])
    assert.deepEqual(problemsOf('clients: []\nclients: []\n'), ['gatehouse.yaml:2: Map keys must be unique'])
    assert.deepEqual(problemsOf('- just a list\n'), ['gatehouse.yaml:1: must be object'])
    // The client keeps each value once: a repeated one would be a change at every apply.
    assert.deepEqual(problemsOf('clients:\n  - id: a\n    name: A\n    scopes: [read, read]\n'), ['gatehouse.yaml:4: clients[0].scopes: must NOT have duplicate items (items ## 1 and 0 are identical)'])
  })
})

describe('docs/config-as-code.md', () => {
  it('shows a complete example file that the schema accepts, with every client field of the table used somewhere (jwks: its jwksUri twin)', () => {
    const docs = readFileSync(new URL('../../docs/config-as-code.md', import.meta.url), 'utf8')
    const example = /```yaml\n([\s\S]*?)```/.exec(docs)?.[1] ?? ''
    const { declaration } = parseDeclarationFile(example, 'docs/config-as-code.md')
    const used = new Set((declaration.clients ?? []).flatMap((client) => Object.keys(client)))
    const unused = CLIENT_FIELDS.map((field) => field.key).filter((key) => !used.has(key) && key !== 'jwks')
    assert.deepEqual(unused, [])
    assert.deepEqual(Object.keys(declaration).sort(), ['apis', 'clients', 'dialects', 'operators', 'version'])
  })
})
