import { apiKey } from './api-key.js'
import { authorizationCode } from './authorization-code.js'
import { clientCredentials } from './client-credentials.js'
import { deviceCode } from './device-code.js'
import type { Grant } from './grant.js'
import { password } from './password.js'
import { refreshToken } from './refresh-token.js'
import { tokenExchange } from './token-exchange.js'

/** grant_type → grant module. Adding a grant is one new file and one line here. */
export function createGrantRegistry(grants: readonly Grant[] = [clientCredentials, password, refreshToken, apiKey, authorizationCode, deviceCode, tokenExchange]): ReadonlyMap<string, Grant> {
  return new Map(grants.map((grant) => [grant.grantType, grant]))
}
