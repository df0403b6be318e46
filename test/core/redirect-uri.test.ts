import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ClientValidationError } from '../../src/core/admin/client-validation-error.js'
import { checkRedirectUri, redirectUriRegistered } from '../../src/core/authorization/redirect-uri.js'

describe('redirect URIs (RFC 6749 §3.1.2, RFC 9700 §4.1.3, RFC 8252 §7)', () => {
  it('registers absolute https URIs, http on loopback, and reversed-domain private-use schemes; refuses the rest', () => {
    for (const uri of ['https://app.example.com/callback', 'https://app.example.com/cb?tenant=1', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb', 'http://localhost:3000/cb', 'com.example.app:/oauth2redirect']) {
      assert.doesNotThrow(() => checkRedirectUri(uri), uri)
    }
    for (const uri of ['/callback', 'http://app.example.com/cb', 'https://app.example.com/cb#fragment', 'javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'myapp:/cb', 'https://app.example.com/a b', `https://app.example.com/${'a'.repeat(2000)}`]) {
      assert.throws(() => checkRedirectUri(uri), ClientValidationError, uri)
    }
  })

  it('compares requested URIs as exact strings, except the port of a loopback IP (RFC 8252 §7.3)', () => {
    const registered = ['https://app.example.com/callback', 'http://127.0.0.1/cb', 'http://localhost:3000/cb']
    assert.equal(redirectUriRegistered(registered, 'https://app.example.com/callback'), true)
    for (const uri of ['https://app.example.com/callback/', 'https://APP.example.com/callback', 'https://app.example.com/callback?x=1', 'https://app.example.com/Callback', 'http://localhost:3001/cb', 'http://127.0.0.1/cb/../evil', 'http://127.0.0.1/other']) {
      assert.equal(redirectUriRegistered(registered, uri), false, uri)
    }
    assert.equal(redirectUriRegistered(registered, 'http://127.0.0.1:51234/cb'), true)
  })
})
