import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { SERVE_NODE_FLAGS } from '../../bench/harness.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const read = (path: string): string => readFileSync(`${root}/${path}`, 'utf8')

/**
 * The server runs with a fixed V8 young generation (docs/operations.md, "Memory"): `npm start`,
 * the Docker image and the benches that measure the deployed server must give it the same flags.
 */
describe('the V8 flags the server is started with', () => {
  it('are the same in npm start, the Docker entrypoint and the benches', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start
    assert.equal(start, `node ${SERVE_NODE_FLAGS.join(' ')} dist/cli/main.js serve`)
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))?.[1]
    assert.deepEqual(JSON.parse(entrypoint ?? 'null'), ['node', ...SERVE_NODE_FLAGS, 'dist/cli/main.js'])
  })

  it('fix the young generation in this Node: V8 takes them and does not grow it under load', () => {
    // new_space's size after a load (both semi-spaces in use), and again after more of it.
    const newSpace = (flags: string[]): [number, number] => {
      const script =
        "const v8 = require('node:v8'); const size = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size; " +
        'const load = () => { let kept = []; for (let i = 0; i < 2e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept = [] } }; ' +
        'load(); const first = size(); load(); load(); console.log(JSON.stringify([first, size()]))'
      return JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' })) as [number, number]
    }
    const [first, later] = newSpace(SERVE_NODE_FLAGS)
    // Two 8 MiB semi-spaces (V8 versions differ on whether space_size counts one or both).
    assert.ok(first === 8 * 2 ** 20 || first === 2 * 8 * 2 ** 20, `new space ${first} bytes`)
    assert.equal(later, first)
    // Without the flags V8 grows it past that under the same load: the flags are what hold it.
    const [defaultFirst] = newSpace([])
    assert.ok(defaultFirst > first, `default new space ${defaultFirst} bytes`)
  })
})
