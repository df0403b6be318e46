// `npm run docs:snippets`: regenerates the marked snippet blocks of docs/dialects.md from the
// same generator as /docs (src/snippets/). test/reference/docs-snippets.test.ts fails when they are stale.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderSnippetBlocks } from '../src/http/routes/reference/docs-snippets.js'

const file = join(import.meta.dirname, '..', 'docs', 'dialects.md')
const before = readFileSync(file, 'utf8')
const after = renderSnippetBlocks(before)
if (after !== before) writeFileSync(file, after)
console.log(after === before ? 'docs/dialects.md: snippets up to date' : 'docs/dialects.md: snippets rewritten')
