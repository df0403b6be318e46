/** Errors every store port may raise; the store throws them, the core and the HTTP layer catch them. */

export class DuplicateError extends Error {
  constructor(what: string) {
    super(`${what} already exists`)
    this.name = 'DuplicateError'
  }
}
