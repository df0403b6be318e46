import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ClientAdmin, ClientValidationError } from '../../src/core/admin/client-admin.js'
import { ClientCache } from '../../src/core/client-cache.js'
import { systemClock } from '../../src/core/clock.js'
import { digestSecret } from '../../src/core/credentials/secrets.js'
import type { Client } from '../../src/core/types.js'
import { systemRandom } from '../../src/core/random.js'

/** ClientAdmin with a secret the operator chose (apply's secretFromEnv): only its digest is kept. */

function admin(): { clients: ClientAdmin; rows: Map<string, Client> } {
  const rows = new Map<string, Client>()
  const store = {
    getClient: async (id: string) => rows.get(id),
    insertClient: async (client: Client) => void rows.set(client.id, client),
    updateClient: async (client: Client) => void rows.set(client.id, client),
    deleteClient: async (id: string) => rows.delete(id),
    listClients: async () => [...rows.values()],
  }
  const clients = new ClientAdmin({ store, grants: { endGrants: async () => 0 }, cache: new ClientCache({ store, clock: systemClock }, 1000), clock: systemClock, random: systemRandom, maxAccessTokenTtl: 3600, issuer: 'https://id.example.com' })
  return { clients, rows }
}

const SECRET = 'a-chosen-secret-of-forty-characters-0123'

describe('a client secret the operator chooses', () => {
  it('is stored as its digest only, matches afterwards, and replaces the old one on rotation', async () => {
    const { clients, rows } = admin()
    const { clientSecret } = await clients.create({ name: 'CI', id: 'ci' }, { secret: SECRET })
    assert.equal(clientSecret, SECRET)
    assert.equal(rows.get('ci')?.secretDigest, digestSecret(SECRET))
    assert.ok(!JSON.stringify(rows.get('ci')).includes(SECRET))
    assert.deepEqual([await clients.secretMatches('ci', SECRET), await clients.secretMatches('ci', `${SECRET}x`), await clients.secretMatches('nobody', SECRET)], [true, false, false])
    const other = 'another-chosen-secret-of-enough-length-42'
    assert.equal((await clients.rotateSecret('ci', { secret: other }))?.clientSecret, other)
    assert.deepEqual([await clients.secretMatches('ci', SECRET), await clients.secretMatches('ci', other)], [false, true])
  })

  it('is refused when short, with spaces, or for a client that has no secret', async () => {
    const { clients, rows } = admin()
    const refused = /^a chosen client secret must be 32 to 512 printable ASCII characters without spaces/
    await assert.rejects(clients.create({ name: 'A', id: 'a' }, { secret: 'short' }), (error: unknown) => error instanceof ClientValidationError && refused.test(error.message))
    await assert.rejects(clients.create({ name: 'A', id: 'a' }, { secret: `${SECRET} with spaces` }), (error: unknown) => error instanceof ClientValidationError && refused.test(error.message))
    await assert.rejects(clients.create({ name: 'S', id: 's', tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], redirectUris: ['https://a.example/cb'] }, { secret: SECRET }), {
      name: 'ClientValidationError',
      message: 'a client of auth method none has no secret; give it none',
    })
    assert.equal(rows.size, 0)
    await clients.create({ name: 'B', id: 'b' })
    await assert.rejects(clients.rotateSecret('b', { secret: 'short' }), (error: unknown) => error instanceof ClientValidationError && refused.test(error.message))
  })
})
