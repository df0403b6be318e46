import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { basicAuthorization, LANGUAGES, tokenRequest, tokenRequestSnippet } from '../../src/snippets/index.js'

const ENDPOINT = 'https://auth.example.com/oauth/token'

describe('tokenRequestSnippet (the console\'s "Get a token")', () => {
  it('puts a client_secret_basic client\'s credentials in an Authorization header (RFC 6749 §2.3.1)', () => {
    assert.equal(
      tokenRequestSnippet({ clientId: 'c-1', clientSecret: 's3cret', authMethod: 'client_secret_basic', tokenEndpoint: ENDPOINT }),
      `curl --request POST \\\n  --url ${ENDPOINT} \\\n  --header 'Authorization: Basic Yy0xOnMzY3JldA==' \\\n  --header 'Content-Type: application/x-www-form-urlencoded' \\\n  --data grant_type=client_credentials`,
    )
  })

  it('puts a client_secret_post client\'s in the body, a public client\'s id alone, and a placeholder for an unshown secret', () => {
    assert.deepEqual(tokenRequest({ clientId: 'c-1', authMethod: 'client_secret_post', tokenEndpoint: ENDPOINT }).body, { form: { grant_type: 'client_credentials', client_id: 'c-1', client_secret: 'YOUR_CLIENT_SECRET' } })
    assert.deepEqual(tokenRequest({ clientId: 'c-1', authMethod: 'none', tokenEndpoint: ENDPOINT }).body, { form: { grant_type: 'client_credentials', client_id: 'c-1' } })
    assert.deepEqual(tokenRequest({ clientId: 'c-1', authMethod: 'private_key_jwt', tokenEndpoint: ENDPOINT, scope: 'api' }).body, {
      form: { grant_type: 'client_credentials', scope: 'api', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'YOUR_SIGNED_JWT' },
    })
  })

  it('writes the request in every language, each naming the endpoint', () => {
    for (const language of LANGUAGES) {
      const source = tokenRequestSnippet({ clientId: 'c-1', clientSecret: 's3cret', authMethod: 'client_secret_post', tokenEndpoint: ENDPOINT }, language.id)
      assert.ok(source.includes(ENDPOINT) && source.includes('s3cret'), `${language.id}: ${source}`)
    }
  })

  it('encodes any id and secret so that the server decodes them back (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (id, secret) => {
        const decoded = Buffer.from(basicAuthorization(id, secret).slice('Basic '.length), 'base64').toString('utf8')
        const [encodedId = '', ...rest] = decoded.split(':')
        const unform = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '))
        assert.deepEqual([unform(encodedId), unform(rest.join(':'))], [id, secret])
      }),
    )
  })
})
