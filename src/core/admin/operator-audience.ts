import { OAuthError } from '../errors.js'
import { parseScope } from '../scope.js'
import { adminAudience, isAdminAudience } from './admin-audience.js'
import type { OperatorKind, OperatorStore } from './operator-store.js'

/** The operator list, read only when a request asks for the admin audience. */
export type OperatorAudienceDeps = { operators?: Pick<OperatorStore, 'getOperator'> }

/** What a grant issues when an operator asks for the admin audience: that `aud` and no scope. */
export interface AdminAudienceGrant {
  audience: string
  scopes: string[]
}

/**
 * RFC 8707 §2: the audience a token request names. Gatehouse itself gives meaning to one,
 * its management API's (`adminAudience`): it is issued only to a subject on the operator list,
 * and carries no tenant scope (the role, looked up per request, is the authority). Anyone else
 * hears `invalid_target`. Any other audience is left to the grant as before, and a request
 * with none costs no store read.
 */
export async function checkOperatorAudience(
  deps: OperatorAudienceDeps,
  input: { audience: string | undefined; scope: string | undefined; issuer: string; subject: { kind: OperatorKind; id: string } },
): Promise<AdminAudienceGrant | undefined> {
  if (!isAdminAudience(input.audience, input.issuer)) return undefined
  const audience = adminAudience(input.issuer)
  if (parseScope(input.scope) !== undefined) {
    throw new OAuthError('invalid_scope', { description: `A token for ${audience} carries no scope; leave scope out.` })
  }
  const operator = await deps.operators?.getOperator(input.subject.kind, input.subject.id)
  if (!operator) {
    throw new OAuthError('invalid_target', {
      description: `The audience ${audience} is Gatehouse's management API; only an operator may ask for it.`,
      debug: `${input.subject.kind} ${input.subject.id} is not on the operator list`,
    })
  }
  return { audience, scopes: [] }
}
