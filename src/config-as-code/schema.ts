import { CLIENT_FIELDS } from '../core/config-as-code/client-fields.js'
import { OPERATOR_ROLES } from '../core/admin/operator-store.js'
import { dialectsSchema } from './dialects.js'

/** Where the server publishes the schema, under its issuer (editors fetch it from there). */
export const SCHEMA_PATH = '/schemas/gatehouse.json'

/**
 * The JSON Schema of a configuration-as-code file (`gatehouse apply`, `gatehouse export`).
 * Built from the client field table, so a new client setting appears here by itself;
 * schema/gatehouse.schema.json is this, written by scripts/write-schema.ts (a test keeps them equal).
 */
export function declarationSchema(id?: string): Record<string, unknown> {
  const clientProperties: Record<string, unknown> = {
    id: { type: 'string', minLength: 1, maxLength: 200, description: 'The client id (chosen, stable: apply finds the client by it)' },
    secretFromEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Environment variable holding the client secret (at least 32 characters); only its digest is stored' },
  }
  for (const field of CLIENT_FIELDS) clientProperties[field.key] = field.schema
  const name = { type: 'string', minLength: 1 }
  const role = { enum: [...OPERATOR_ROLES] }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(id !== undefined ? { $id: id } : {}),
    title: 'Gatehouse configuration (gatehouse apply / gatehouse export)',
    type: 'object',
    additionalProperties: false,
    properties: {
      version: { const: 1 },
      clients: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'name'], properties: clientProperties } },
      apis: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['identifier', 'name', 'scopes'],
          properties: {
            identifier: { ...name, description: 'Absolute URL naming the API: the aud of its tokens' },
            name,
            scopes: {
              type: 'array',
              minItems: 1,
              items: { type: 'object', additionalProperties: false, required: ['name', 'description'], properties: { name, description: name, selfService: { type: 'boolean' } } },
            },
          },
        },
      },
      operators: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['role'],
          // Exactly one of the two: the reader words this rule's failure itself.
          oneOf: [{ required: ['user'] }, { required: ['client'] }],
          properties: { user: { ...name, description: 'A user, by username or id (never created by apply)' }, client: { ...name, description: 'A client, by id' }, role },
        },
      },
      dialects: dialectsSchema(),
    },
  }
}
