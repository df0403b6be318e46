/** Port: deletion of expired rows (housekeeping). The core owns it; the store (src/store) implements it. */
export interface HousekeepingStore {
  /** Deletes up to `limit` expired rows of each kind; returns how many went. */
  deleteExpired(now: number, limit: number): Promise<number>
}
