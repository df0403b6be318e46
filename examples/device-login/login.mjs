#!/usr/bin/env node
// @ts-check
/**
 * `login.mjs`: signs you in to Gatehouse from a terminal with the device authorization grant
 * (RFC 8628), the way `gh auth login` does: it prints a one-time code and a URL, you type the
 * code in any browser (your laptop, your phone), and it prints who signed in.
 *
 *   node examples/device-login/login.mjs --issuer http://127.0.0.1:8787 --client-id CLIENT_ID
 *
 * Options (or environment): --issuer (GATEHOUSE_ISSUER), --client-id (GATEHOUSE_CLIENT_ID),
 * --client-secret (GATEHOUSE_CLIENT_SECRET, confidential clients only), --scope.
 */
import { parseArgs } from 'node:util'
import { deviceLogin, TokenClientError } from 'gatehouse/client'

const { values } = parseArgs({
  options: {
    issuer: { type: 'string', default: process.env.GATEHOUSE_ISSUER ?? 'http://127.0.0.1:8787' },
    'client-id': { type: 'string', default: process.env.GATEHOUSE_CLIENT_ID },
    'client-secret': { type: 'string', default: process.env.GATEHOUSE_CLIENT_SECRET },
    scope: { type: 'string', default: 'openid profile email' },
  },
})
const issuer = (values.issuer ?? '').replace(/\/+$/, '')
const clientId = values['client-id']
if (!clientId) {
  console.error('usage: login.mjs --issuer URL --client-id ID [--client-secret SECRET] [--scope "openid profile email"]')
  process.exit(2)
}

// Ctrl-C stops the wait cleanly.
const stop = new AbortController()
process.once('SIGINT', () => stop.abort(new Error('cancelled')))

try {
  const tokens = await deviceLogin({
    issuer,
    clientId,
    ...(values['client-secret'] ? { clientSecret: values['client-secret'] } : {}),
    scope: values.scope,
    signal: stop.signal,
    onCode({ userCode, verificationUri, expiresIn }) {
      console.log(`! First copy your one-time code: ${userCode}`)
      console.log(`Open ${verificationUri} in your browser`)
      console.log(`Waiting for you to sign in (the code works for ${Math.round(expiresIn / 60)} minutes)...`)
    },
  })
  // Who is it? The UserInfo endpoint answers for the access token (OpenID Connect Core §5.3).
  const response = await fetch(`${issuer}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
  const me = response.ok ? /** @type {{ sub: string, name?: string, email?: string }} */ (await response.json()) : undefined
  const who = me ? [me.name, me.email ? `<${me.email}>` : undefined].filter(Boolean).join(' ') || me.sub : 'you'
  console.log(`✓ Logged in as ${who}`)
  console.log(`  access token valid for ${tokens.expiresIn ?? '?'} s${tokens.refreshToken ? ', with a refresh token' : ''}`)
} catch (error) {
  if (stop.signal.aborted) {
    console.error('\nCancelled.')
    process.exit(130)
  }
  if (error instanceof TokenClientError && error.code === 'access_denied') console.error('✗ The sign-in was denied in the browser.')
  else if (error instanceof TokenClientError && error.code === 'expired_token') console.error('✗ The code expired before it was used. Run the command again.')
  else console.error(`✗ ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
