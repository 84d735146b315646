/**
 * FAPI clients: a browser or app. `POST /v1/client` makes one and shows its token once; the client then sends
 * `Authorization: Bearer ct_…` on every sign-up, sign-in and session call, so only it can continue its flows
 * and mint tokens for its sessions. In a browser the same token lives in an HttpOnly cookie instead, out of reach
 * of the page's scripts (`src/http/fapi/browser.ts`). The store keeps only the token's SHA-256 (it carries 256
 * random bits).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { appError } from '../errors.js';
import { newId } from '../ids.js';
import type { Db } from '../store/database.js';
import type { Transactions } from '../store/group-commit.js';
import type { InstanceService } from '../instance/service.js';
import { consumeCallLimit, type Limits } from '../limits/limits.js';
import { ANONYMOUS, type RequestContext } from './request-context.js';

export interface ClientView {
  object: 'client';
  id: string;
  created_at: number;
}

const TOKEN = /^ct_[A-Za-z0-9_-]{43}$/;
/** Clients remembered per process (token hash → id). Clients are never deleted, so an entry never goes stale. */
const CACHE_SIZE = 10_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The bearer token of an `Authorization` header, or null when there is none. */
export function bearer(header: string | undefined): string | null {
  if (header === undefined || header.trim() === '') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : '';
}

export class Clients {
  private readonly known = new Map<string, string>();

  constructor(private readonly deps: { db: Db; clock: Clock; transactions: Transactions; limits: Limits; instance: InstanceService }) {}

  /** A new client; counted against the caller's address with sign-ups and sign-ins (`abuse.creates_per_ip`). */
  async create(ctx: RequestContext): Promise<{ client: ClientView; token: string }> {
    const settings = await this.deps.instance.current();
    const token = `ct_${randomBytes(32).toString('base64url')}`;
    const client = await this.deps.transactions.run(async (tx) => {
      const refused = await consumeCallLimit(this.deps.limits, this.deps.clock, tx, {
        limit: 'creates_per_ip',
        settings,
        ip: ctx.ip,
        actor: ANONYMOUS,
      });
      if (refused) return refused;
      const now = this.deps.clock.now();
      const id = newId('client', now);
      await tx
        .insertInto('clients')
        .values({ id, token_hash: hashToken(token), created_at: now })
        .execute();
      return { object: 'client' as const, id, created_at: now };
    });
    return { client, token };
  }

  /** The client a token belongs to (from `Authorization: Bearer ct_…`, or a browser's cookie); null when none was sent. */
  async authenticate(token: string | null): Promise<string> {
    if (token === null) {
      throw appError('client_token_missing', {
        paramName: 'Authorization',
        longMessage:
          'Send the client token from POST /v1/client as "Authorization: Bearer ct_…" (or, from a page on an allowed origin, with credentials: the cookie POST /v1/client set).',
      });
    }
    const invalid = () =>
      appError('client_token_invalid', {
        paramName: 'Authorization',
        longMessage: 'The client token is malformed or unknown; create a client with POST /v1/client.',
      });
    if (!TOKEN.test(token)) throw invalid();
    const hash = hashToken(token);
    const cached = this.known.get(hash);
    if (cached) return cached;
    const row = await this.deps.db.selectFrom('clients').select('id').where('token_hash', '=', hash).executeTakeFirst();
    if (!row) throw invalid();
    if (this.known.size >= CACHE_SIZE) this.known.delete(this.known.keys().next().value!);
    this.known.set(hash, row.id);
    return row.id;
  }
}
