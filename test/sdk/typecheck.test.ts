import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../..', import.meta.url))

test('the SDK tests and examples/worklist-api typecheck (they are outside the main build)', async () => {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', 'test/sdk/tsconfig.json'], { cwd: root }).then(
    () => ({ code: 0, output: '' }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? '' }),
  )
  assert.deepEqual(result, { code: 0, output: '' })
})
