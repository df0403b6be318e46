/** A client setting that is not allowed; its message says which and why (shown to operators). */
export class ClientValidationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ClientValidationError'
  }
}
