import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const sdk = fileURLToPath(new URL('../../src/sdk/', import.meta.url))

/** Every module `file` imports, transitively: relative ones as paths, packages by name. */
function importGraph(file: string, seen = new Set<string>(), packages = new Set<string>()): { files: Set<string>; packages: Set<string> } {
  if (seen.has(file)) return { files: seen, packages }
  seen.add(file)
  // Comments go first: TSDoc examples import the package by name.
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  for (const [, specifier = ''] of code.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
    if (specifier.startsWith('.')) importGraph(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen, packages)
    else packages.add(specifier)
  }
  return { files: seen, packages }
}

test('gatehouse/client depends on the platform only: no package, no server code', () => {
  const { files, packages } = importGraph(join(sdk, 'client.ts'))
  assert.deepEqual([...packages], [])
  assert.deepEqual([...files].map((file) => relative(sdk, file)).filter((path) => path.startsWith('..')), [])
})

test('gatehouse/verify depends on jose only, and no server code', () => {
  const { files, packages } = importGraph(join(sdk, 'verify.ts'))
  assert.deepEqual([...packages], ['jose'])
  assert.deepEqual([...files].map((file) => relative(sdk, file)).filter((path) => path.startsWith('..')), [])
})
