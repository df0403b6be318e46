import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const packages = fileURLToPath(new URL('../../packages/', import.meta.url))

/** Every module `file` imports, transitively: relative ones as paths, packages by name. */
function importGraph(file: string, seen = new Set<string>(), names = new Set<string>()): { files: Set<string>; packages: Set<string> } {
  if (seen.has(file)) return { files: seen, packages: names }
  seen.add(file)
  // Comments go first: TSDoc examples import the package by name.
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  for (const [, specifier = ''] of code.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
    if (specifier.startsWith('.')) importGraph(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen, names)
    else names.add(specifier)
  }
  return { files: seen, packages: names }
}

/** The files of the graph that lie outside the package's own src/ (server code, another package). */
function outside(pkg: string, files: Set<string>): string[] {
  return [...files].map((file) => relative(join(packages, pkg, 'src'), file)).filter((path) => path.startsWith('..'))
}

function manifest(pkg: string): { dependencies?: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }> } {
  return JSON.parse(readFileSync(join(packages, pkg, 'package.json'), 'utf8'))
}

test('gatehouse-client depends on the platform only: no package, no server code, no dependency declared', () => {
  const { files, packages: names } = importGraph(join(packages, 'client/src/client.ts'))
  assert.deepEqual([...names], [])
  assert.deepEqual(outside('client', files), [])
  const { dependencies, peerDependencies } = manifest('client')
  assert.deepEqual({ dependencies, peerDependencies }, { dependencies: undefined, peerDependencies: undefined })
})

test('gatehouse-verify depends on jose only, and no server code', () => {
  const { files, packages: names } = importGraph(join(packages, 'verify/src/verify.ts'))
  assert.deepEqual([...names], ['jose'])
  assert.deepEqual(outside('verify', files), [])
  assert.deepEqual(manifest('verify').dependencies, { jose: '^6.2.18' })
})

test('gatehouse-verify/fastify and /express import their frameworks as types only: optional peers', () => {
  for (const adapter of ['fastify', 'express'] as const) {
    const { files, packages: names } = importGraph(join(packages, `verify/src/${adapter}.ts`))
    // `import type` is erased at build: the adapters load no framework at run time.
    const runtime = [...names].filter((name) => name !== 'jose' && !new RegExp(`^import type [^;]+ from '${name}'`, 'm').test(readFileSync(join(packages, `verify/src/${adapter}.ts`), 'utf8')))
    assert.deepEqual(runtime, [], adapter)
    assert.deepEqual(outside('verify', files), [], adapter)
  }
  const { peerDependencies, peerDependenciesMeta } = manifest('verify')
  assert.deepEqual({ peerDependencies, peerDependenciesMeta }, { peerDependencies: { express: '>=4', fastify: '>=5' }, peerDependenciesMeta: { express: { optional: true }, fastify: { optional: true } } })
})
