/** The audit log: filters, cursor pagination, and append-only at the database level. */
import { beforeAll, describe, expect, it } from 'vitest';
import { recordAudit, SYSTEM_ACTOR, type AuditAction } from '../../src/audit/audit-log.js';
import { STORES, useTestServer } from '../helpers/server.js';

describe.each(STORES)('audit log on %s', (kind) => {
  let now = 1_800_000_000_000;
  const clock = { now: () => now };
  const ctx = useTestServer(kind, { clock });
  beforeAll(async () => {
    const db = ctx.server.running.services.store.db;
    for (let i = 0; i < 25; i++) {
      now += 1000;
      // `sms_test.sent` is no action of the server's: it shares the prefix `sms` with `sms.queued`, for the filters.
      await recordAudit(db, clock, {
        actor: SYSTEM_ACTOR,
        action: (i % 2 ? 'sms.queued' : 'sms_test.sent') as AuditAction,
        target: { type: 'sms_message', id: `msg_${i}` },
        data: { i },
      });
    }
  });

  const list = async (query: string) => {
    const res = await ctx.server.bapi('GET', `/v1/audit_logs?${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as { data: { id: string; action: string; created_at: number; data: { i: number } }[]; next_cursor: string | null };
  };

  it('pages through everything newest first without gaps or repeats', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(`action=sms*&limit=7${cursor ? `&starting_after=${cursor}` : ''}`);
      seen.push(...page.data.map((e) => e.data.i));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...Array(25).keys()].reverse());
  });

  it('filters by exact action, by prefix, by target and by time', async () => {
    expect((await list('action=sms.queued&limit=100')).data).toHaveLength(12);
    expect((await list('action=sms_test.*&limit=100')).data).toHaveLength(13);
    expect((await list('action=sms.*&limit=100')).data).toHaveLength(12); // `_` is not a wildcard
    expect((await list('target_type=sms_message&target_id=msg_3')).data.map((e) => e.data.i)).toEqual([3]);
    const start = 1_800_000_000_000;
    const window = await list(`created_after=${start + 5000}&created_before=${start + 8000}&action=sms*`);
    expect(window.data.map((e) => e.data.i)).toEqual([6, 5, 4]);
  });

  it('refuses to update or delete an entry', async () => {
    const db = ctx.server.running.services.store.db;
    await expect(db.updateTable('audit_logs').set({ action: 'forged' }).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('audit_logs').execute()).rejects.toThrow(/append-only/);
    expect((await list('action=forged')).data).toHaveLength(0);
    expect((await list('action=sms*&limit=100')).data).toHaveLength(25);
  });
});
