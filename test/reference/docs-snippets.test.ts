import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { markedBlocks, renderSnippetBlocks, snippetBlock } from '../../src/http/routes/reference/docs-snippets.js'

const FILE = join(import.meta.dirname, '..', '..', 'docs', 'dialects.md')

describe('docs/dialects.md snippet blocks', () => {
  it('are what `npm run docs:snippets` writes (run it when this fails)', () => {
    const text = readFileSync(FILE, 'utf8')
    assert.equal(renderSnippetBlocks(text), text)
  })

  it('cover every dialect\'s token endpoint, in each body type', () => {
    assert.deepEqual(markedBlocks(readFileSync(FILE, 'utf8')), [
      'POST /v2/oauth/request-tokens',
      'POST /v2/oauth/refresh-tokens',
      'POST /v3/auth/tokens/get',
      'POST /v3/auth/tokens/refresh',
      'POST /connect/token',
      'POST /v1/auth/token application/x-www-form-urlencoded',
      'POST /v1/auth/token application/json',
      'POST /oauth/token application/x-www-form-urlencoded',
      'POST /oauth/token application/json',
    ])
  })

  it('notices a stale block', () => {
    const fresh = snippetBlock('POST', '/connect/token', undefined)
    const stale = fresh.replace('scope=api', 'scope=old')
    assert.notEqual(stale, fresh)
    assert.equal(renderSnippetBlocks(`before\n${stale}\nafter`), `before\n${fresh}\nafter`)
  })
})
