/** Who is asking, as the auth services see a FAPI request: below the flows and clients, which both use it. */
import type { Actor } from '../audit/audit-log.js';

export interface RequestContext {
  /** The caller's address (the per-IP limits). */
  ip: string;
}

/** FAPI calls made before anyone is signed in. */
export const ANONYMOUS: Actor = { type: 'user', id: null };
