import type { ApiScopeInput } from '../apis/api-registry.js'
import type { OperatorRole } from '../admin/operator-store.js'

/**
 * A configuration-as-code file once its schema has accepted it (schema/gatehouse.schema.json).
 * A section left out is not managed at all: apply neither changes nor prunes what it would hold.
 */
export interface Declaration {
  version?: 1
  clients?: DeclaredClient[]
  apis?: DeclaredApi[]
  operators?: DeclaredOperator[]
  /** Dialect settings, `dialect.setting` → value (see src/config-as-code/dialects.ts). */
  dialects?: Readonly<Record<string, unknown>>
}

/**
 * A client by its id; its settings under the names of CLIENT_FIELDS. A setting left out is not
 * managed: a new client gets the default of `clients create`, an existing one keeps its value.
 */
export interface DeclaredClient {
  id: string
  /** The environment variable holding its secret; without it a new confidential client gets a generated one. */
  secretFromEnv?: string
  [setting: string]: unknown
}

export interface DeclaredApi {
  identifier: string
  name: string
  scopes: ApiScopeInput[]
}

/** An entry of the operator list: a user (by username or id) or a client (by id), and its role. */
export type DeclaredOperator = { user: string; role: OperatorRole } | { client: string; role: OperatorRole }

/** Where in the file a value is: keys and list indexes, as in `clients[2].grantTypes`. */
export type DeclarationPath = readonly (string | number)[]

export const pathText = (path: DeclarationPath): string =>
  path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('')
