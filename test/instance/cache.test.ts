/**
 * The settings cache: a read made inside a transaction (every send runs in one) is kept for the next caller,
 * and nothing read while a PATCH is under way is kept (a read in its transaction sees it uncommitted).
 */
import { describe, expect, it } from 'vitest';
import { errorDetail } from '../../src/errors.js';
import type { InstanceSettings } from '../../src/instance/settings.js';
import { STORES, useTestServer } from '../helpers/server.js';

describe.each(STORES)('instance settings cache on %s', (kind) => {
  let now = Date.parse('2026-12-06T12:00:00Z');
  const ctx = useTestServer(kind, { clock: { now: () => now } });
  /** Past the cache's lifetime and its grace period: the next read goes to the store. */
  const expire = () => (now += 60_000);
  const inTransaction = (
    fn: (tx: Parameters<Parameters<typeof ctx.server.running.services.transactions.run>[0]>[0]) => Promise<InstanceSettings>,
  ) => ctx.server.running.services.transactions.run(fn);

  it('keeps what a transaction read, so the next send does not read and decrypt the settings again', async () => {
    const { instance } = ctx.server.running.services;
    expire();
    const first = await inTransaction((tx) => instance.current(tx));
    const second = await inTransaction((tx) => instance.current(tx));
    expect(second).toBe(first);
    // A PATCH is seen at once by the next read in a transaction.
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { from_number: '+14155550177' } });
    expect(res.statusCode).toBe(200);
    const after = await inTransaction((tx) => instance.current(tx));
    expect(after).not.toBe(first);
    expect(after.sms.from_number).toBe('+14155550177');
  });

  it('does not keep what was read inside a PATCH, which is refused and rolled back', async () => {
    const { instance } = ctx.server.running.services;
    const reads: InstanceSettings[] = [];
    let active = true;
    instance.addCheck(async (tx) => {
      if (!active) return [];
      // The first read goes to the store (the cache has expired), inside the PATCH's transaction.
      reads.push(await instance.current(tx), await instance.current(tx));
      return [errorDetail('form_param_format_invalid', { paramName: 'sms.from_number', longMessage: 'refused by the test' })];
    });
    expire();
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { from_number: '+14155550188' } });
    active = false;
    expect(res.statusCode).toBe(422);
    expect(JSON.parse(res.body).errors[0].code).toBe('form_param_format_invalid');
    // Not kept: the second read went to the store again.
    expect(reads[1]).not.toBe(reads[0]);
    const after = await inTransaction((tx) => instance.current(tx));
    expect(after.sms.from_number).toBe('+14155550177');
  });
});
