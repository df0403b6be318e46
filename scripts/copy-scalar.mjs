#!/usr/bin/env node
// `npm run build`, last step: copies Scalar's browser bundle (the one file of the
// @scalar/api-reference devDependency that Gatehouse uses) into dist/web/scalar/, with a gzip
// twin and a manifest naming its content hash. Gatehouse serves it at /assets/scalar/HASH/
// (src/http/routes/reference/scalar-bundle.ts). Being a devDependency, the package (hundreds of
// MB with its own dependencies) stays out of the Docker image: only this copy reaches dist/.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { constants, gzipSync } from 'node:zlib'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// Its package.json is not among its exports, so it is found by path, not by require.resolve.
const packageDir = join(root, 'node_modules', '@scalar', 'api-reference')
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
const source = readFileSync(join(packageDir, 'dist', 'browser', 'standalone.js'), 'utf8')
// The 20 MB source map is not shipped: drop the comment that would make devtools ask for it.
const bundle = Buffer.from(source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'))
const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16)
const out = join(root, 'dist', 'web', 'scalar')
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'standalone.js'), bundle)
// gzip -9 takes a quarter of a second; brotli 11 would save another quarter of the bytes but takes ~27 s per build.
writeFileSync(join(out, 'standalone.js.gz'), gzipSync(bundle, { level: constants.Z_BEST_COMPRESSION }))
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ package: '@scalar/api-reference', version, hash, bytes: bundle.length }, null, 2)}\n`)
console.log(`scalar ${version}: dist/web/scalar/standalone.js (${bundle.length} bytes, hash ${hash})`)
