import { CLIENT_AUTH_METHODS, MAX_REDIRECT_URIS, type ClientSettings, type ClientView } from '../admin/client-admin.js'
import { APPLICATION_TYPES, GRANT_TYPES, SIGNING_ALGS } from '../types.js'

/** A fragment of JSON Schema (draft 2020-12), as plain data. */
export type JSONSchema = Readonly<Record<string, unknown>>

/** Users by id and by username: a declaration names users by username, the store by id. */
export interface UserDirectory {
  /** The id of the user with this id or username; undefined when there is none. */
  idOf(ref: string): string | undefined
  /** The username of this user id; undefined when there is none. */
  usernameOf(id: string): string | undefined
}

/** A client setting that has the same name in the file, in ClientSettings and on the client. */
export type ClientFieldKey = Exclude<keyof ClientSettings, 'id'> & keyof ClientView

/**
 * One client setting as configuration as code declares it. `fromFile` and `toFile` translate a
 * value whose file form differs from the stored one (users by name); an error string says why a
 * file value cannot be used.
 */
export interface ClientField {
  key: ClientFieldKey
  schema: JSONSchema
  fromFile?: (value: unknown, users: UserDirectory) => { value: unknown } | { error: string }
  toFile?: (value: unknown, users: UserDirectory) => unknown
}

const text = (maxLength = 2000): JSONSchema => ({ type: 'string', minLength: 1, maxLength })
const nullable = (schema: JSONSchema): JSONSchema => ({ anyOf: [schema, { type: 'null' }] })
/** Unique items: the client keeps each value once, so a repeated one would be a change at every apply. */
const list = (items: JSONSchema, maxItems = 1000): JSONSchema => ({ type: 'array', items, maxItems, uniqueItems: true })
const oneOf = (values: readonly string[]): JSONSchema => ({ enum: [...values] })
const seconds = (minimum: number): JSONSchema => ({ type: 'integer', minimum })
const flag: JSONSchema = { type: 'boolean' }

/** `allowedUsers` names users by username (or id) in the file; the client stores ids. */
const userRefs: Pick<ClientField, 'fromFile' | 'toFile'> = {
  fromFile(value, users) {
    if (value === null || !Array.isArray(value)) return { value }
    const ids: string[] = []
    for (const ref of value as string[]) {
      const id = users.idOf(ref)
      if (id === undefined) return { error: `no user ${ref}` }
      ids.push(id)
    }
    return { value: ids }
  },
  toFile: (value, users) => (Array.isArray(value) ? (value as string[]).map((id) => users.usernameOf(id) ?? id) : value),
}

/**
 * Every client setting `gatehouse clients create` offers, in the order an export writes them.
 * Adding a client setting to configuration as code is one line here; then
 * `node --import tsx scripts/write-schema.ts` rewrites the shipped schema file from it.
 */
export const CLIENT_FIELDS: readonly ClientField[] = [
  { key: 'name', schema: text(200) },
  { key: 'applicationType', schema: nullable(oneOf(APPLICATION_TYPES)) },
  { key: 'tokenEndpointAuthMethod', schema: oneOf(CLIENT_AUTH_METHODS) },
  { key: 'jwks', schema: nullable({ type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object' } } } }) },
  { key: 'jwksUri', schema: nullable(text()) },
  { key: 'grantTypes', schema: list(oneOf(GRANT_TYPES)) },
  { key: 'redirectUris', schema: list(text(), MAX_REDIRECT_URIS) },
  { key: 'postLogoutRedirectUris', schema: list(text(), MAX_REDIRECT_URIS) },
  { key: 'requirePar', schema: flag },
  { key: 'requireDpop', schema: flag },
  { key: 'skipConsent', schema: flag },
  { key: 'scopes', schema: list(text(200)) },
  { key: 'defaultScopes', schema: list(text(200)) },
  { key: 'audience', schema: nullable(text()) },
  { key: 'resources', schema: list(text(), 20) },
  { key: 'allowImpersonation', schema: flag },
  { key: 'tokenFormat', schema: oneOf(['jwt', 'opaque']) },
  { key: 'signingAlg', schema: oneOf(SIGNING_ALGS) },
  { key: 'accessTokenTtl', schema: seconds(1) },
  { key: 'refreshTokenAbsoluteTtl', schema: seconds(1) },
  { key: 'refreshTokenSlidingTtl', schema: seconds(1) },
  { key: 'refreshTokenReuseInterval', schema: { type: 'integer', minimum: 0, maximum: 300 } },
  { key: 'rotateRefreshTokens', schema: flag },
  { key: 'tokenReuseSeconds', schema: { type: 'integer', minimum: 0, maximum: 3600 } },
  { key: 'allowedUsers', schema: nullable(list(text(200))), ...userRefs },
]
