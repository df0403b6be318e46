import { randomBytes, randomUUID } from 'node:crypto'

/** Randomness comes from here so tests can substitute a deterministic source. */
export interface Random {
  bytes(length: number): Buffer
  uuid(): string
}

export const systemRandom: Random = {
  bytes: (length) => randomBytes(length),
  uuid: () => randomUUID(),
}
