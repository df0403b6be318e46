import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { Declaration, DeclarationPath } from '../core/config-as-code/declaration.js'
import { pathText } from '../core/config-as-code/declaration.js'
import { declarationSchema } from './schema.js'

/** A file that is not a valid declaration; each problem names the line and the field. */
export class DeclarationFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'DeclarationFileError'
  }
}

export interface DeclarationFile {
  declaration: Declaration
  /** The line (1-based) where the value at `path` is, or its nearest parent's. */
  lineOf(path: DeclarationPath): number
}

let compiled: ValidateFunction<Declaration> | undefined
/** Compiled at the first use: every CLI command loads this module, few validate a file. */
const validator = (): ValidateFunction<Declaration> => (compiled ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile<Declaration>(declarationSchema()))

/** Parses and validates a configuration-as-code file (YAML; JSON is YAML too). */
export function parseDeclarationFile(text: string, name: string): DeclarationFile {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (document.errors.length > 0) {
    throw new DeclarationFileError(document.errors.map((error) => `${name}:${lines.linePos(error.pos[0]).line}: ${error.message.split('\n')[0]}`))
  }
  const value: unknown = document.toJS() ?? {}
  const lineOf = (path: DeclarationPath): number => lines.linePos(offsetOf(document, path)).line
  const validate = validator()
  if (!validate(value)) {
    const errors = merged(validate.errors ?? [])
    const problems = errors.map((error) => {
      const { path, message } = describe(error)
      return { line: lineOf(path), text: `${name}:${lineOf(path)}: ${path.length ? `${pathText(path)}: ` : ''}${message}` }
    })
    problems.sort((a, b) => a.line - b.line)
    throw new DeclarationFileError([...new Set(problems.map((problem) => problem.text))])
  }
  return { declaration: value, lineOf }
}

/**
 * A nullable field is `anyOf: [its schema, null]`: its branches' complaints become one,
 * "must be string or null", on the anyOf error itself.
 */
function merged(errors: ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((error) => error.keyword === 'anyOf')
  const branchOf = (error: ErrorObject): ErrorObject | undefined => anyOfs.find((anyOf) => anyOf !== error && error.schemaPath.startsWith(`${anyOf.schemaPath}/`))
  return errors
    .filter((error) => branchOf(error) === undefined)
    .map((error) => {
      if (error.keyword !== 'anyOf') return error
      const branches = errors.filter((other) => branchOf(other) === error).map((other) => describe(other).message.replace(/^must be /, ''))
      return { ...error, message: `must be ${[...new Set(branches)].join(' or ')}` }
    })
}

function describe(error: ErrorObject): { path: DeclarationPath; message: string } {
  const path: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], message: 'unknown field' }
    case 'required':
      return { path, message: `missing field ${String(params.missingProperty)}` }
    case 'oneOf':
      return { path, message: 'name exactly one of user and client' }
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}` }
    default:
      return { path, message: error.message ?? error.keyword }
  }
}

/** Where the value at `path` starts; for a field that is not there, its parent (its key for a map entry). */
function offsetOf(document: Document, path: DeclarationPath): number {
  let node: unknown = document.contents
  let offset = (document.contents as Node | null)?.range?.[0] ?? 0
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === part)
      if (!pair) break
      offset = (pair.key as Node).range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined
      if (!item) break
      offset = item.range?.[0] ?? offset
      node = item
    } else break
  }
  return offset
}
