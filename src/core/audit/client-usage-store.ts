/** How many tokens a client was issued under one grant type, and when the last one was. */
export interface ClientUsage {
  grantType: string
  count: number
  /** Milliseconds since the epoch. */
  lastIssuedAt: number
}

/** What one instance adds to a client's usage since its last flush. */
export interface ClientUsageIncrement extends ClientUsage {
  clientId: string
}

/**
 * Port: token counts per client and grant type, shared by every instance and kept across
 * restarts. Instances count in memory and add their counts here every few seconds
 * (ClientUsageCounter), so the token path itself never writes.
 */
export interface ClientUsageStore {
  /**
   * Adds each increment's count to its (client, grant type) record, creating it at the count
   * given; `lastIssuedAt` keeps the later of the two. Additions from any number of instances at
   * once all count (the database adds, not the caller). An increment for a client that does not
   * exist (deleted since it was counted) is dropped: a deleted client's usage stays deleted.
   */
  addClientUsage(increments: readonly ClientUsageIncrement[]): Promise<void>
  /** The client's records, by grant type (alphabetical); none for an unknown client. */
  listClientUsage(clientId: string): Promise<ClientUsage[]>
}
