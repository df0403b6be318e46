/**
 * Runs the worklist example: `node --import tsx examples/worklist-api/server.ts`.
 * Environment: GATEHOUSE_ISSUER (default http://127.0.0.1:8787), WORKLIST_AUDIENCE (default:
 * the issuer, which is the `aud` Gatehouse gives a client without its own audience), PORT
 * (default 4000), and optionally WORKLIST_CLIENT_ID / WORKLIST_CLIENT_SECRET to accept opaque
 * tokens through introspection.
 */
import { createVerifier } from '../../src/sdk/verify.js'
import { buildWorklistApi } from './app.js'

const issuer = process.env.GATEHOUSE_ISSUER ?? 'http://127.0.0.1:8787'
const clientId = process.env.WORKLIST_CLIENT_ID
const clientSecret = process.env.WORKLIST_CLIENT_SECRET
const verifier = createVerifier({
  issuer,
  audience: process.env.WORKLIST_AUDIENCE ?? issuer,
  ...(clientId && clientSecret ? { introspection: { clientId, clientSecret } } : {}),
})
const app = await buildWorklistApi({ verifier, logger: true })
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 4000) })
