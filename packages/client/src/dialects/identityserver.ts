import { rfc6749Dialect } from './rfc6749.js'

/**
 * Wire contract 3 (seed 001): `POST /connect/token`, form only, every error 400 with an RFC 6749
 * body. The requests and answers are RFC 6749's, so only the path differs; the client defaults
 * to client_secret_post here, as the seed's own curl does.
 */
export const identityserver = rfc6749Dialect('identityserver', '/connect/token')
