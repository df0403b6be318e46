/** Port: the operator list. The core owns it; the store (src/store) implements it. */

/** Who an operator is: a user (password grant) or a client acting for itself (client_credentials). */
export type OperatorKind = 'user' | 'client'
export const OPERATOR_KINDS: readonly OperatorKind[] = ['user', 'client']

/** `admin` may do everything; `read-only` may only read (GET and HEAD). */
export type OperatorRole = 'admin' | 'read-only'
export const OPERATOR_ROLES: readonly OperatorRole[] = ['admin', 'read-only']

/** One entry of the operator list: an identity that may use the management API, and how. */
export interface OperatorRecord {
  kind: OperatorKind
  /** The user id or the client id. */
  id: string
  role: OperatorRole
  createdAt: number
}

export interface OperatorStore {
  getOperator(kind: OperatorKind, id: string): Promise<OperatorRecord | undefined>
  /**
   * Adds the identity, or changes its role; an existing entry keeps its `createdAt`. Returns
   * the entry as stored and the one it replaced (undefined when it was new).
   */
  putOperator(operator: OperatorRecord): Promise<{ operator: OperatorRecord; previous: OperatorRecord | undefined }>
  /** Returns false when there was no such entry. */
  deleteOperator(kind: OperatorKind, id: string): Promise<boolean>
  /** Every entry, ordered by kind, then id. */
  listOperators(): Promise<OperatorRecord[]>
}
