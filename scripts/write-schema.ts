/**
 * Writes schema/gatehouse.schema.json, the JSON Schema of `gatehouse apply` files that ships with
 * the package, from the code that builds it (src/config-as-code/schema.ts). Run after changing a
 * client field or a dialect: `node --import tsx scripts/write-schema.ts`
 * (test/config-as-code/schema.test.ts fails while the file is out of date).
 */
import { writeFileSync } from 'node:fs'
import { declarationSchema } from '../src/config-as-code/schema.js'

writeFileSync(new URL('../schema/gatehouse.schema.json', import.meta.url), `${JSON.stringify(declarationSchema(), null, 2)}\n`)
