/**
 * Exact JSON types for management API bodies. Fastify's Ajv coerces by default (`coerceTypes:
 * 'array'`): it would take `"skip_consent": 1` as true, `"600"` as 600 and a lone string as a
 * one-item list. That suits query strings, where every value is text, but a JSON body says what
 * it means: a value of the wrong type is a 400, as the schema documents it. This check reads the
 * body's own schema before Ajv runs (preValidation) and stops at the first mismatch, in Ajv's
 * wording; everything else (enums, lengths, required members) stays Ajv's.
 */

type JsonType = 'string' | 'boolean' | 'integer' | 'number' | 'null' | 'array' | 'object'

interface TypedSchema {
  type?: JsonType | readonly JsonType[]
  items?: TypedSchema
  properties?: Readonly<Record<string, TypedSchema>>
}

function matches(type: JsonType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string'
    case 'boolean':
      return typeof value === 'boolean'
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'null':
      return value === null
    case 'array':
      return Array.isArray(value)
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
  }
}

/** The first place where `value` is not of its schema's type, as Ajv says it ("body/require_par must be boolean"). */
export function typeMismatch(schema: TypedSchema | undefined, value: unknown, path = 'body'): string | undefined {
  if (schema === undefined || value === undefined) return undefined
  if (schema.type !== undefined) {
    const types: readonly JsonType[] = typeof schema.type === 'string' ? [schema.type] : schema.type
    if (!types.some((type) => matches(type, value))) return `${path} must be ${types.join(',')}`
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    for (const [index, item] of value.entries()) {
      const problem = typeMismatch(schema.items, item, `${path}/${index}`)
      if (problem !== undefined) return problem
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && schema.properties !== undefined) {
    for (const [name, property] of Object.entries(schema.properties)) {
      if (!Object.hasOwn(value, name)) continue
      const problem = typeMismatch(property, (value as Record<string, unknown>)[name], `${path}/${name}`)
      if (problem !== undefined) return problem
    }
  }
  return undefined
}
