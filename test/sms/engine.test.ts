import { describe, expect, it } from 'vitest';
import { STORES, useTestServer } from '../helpers/server.js';

describe.each(STORES)('send engine on %s', (kind) => {
  const ctx = useTestServer(kind);

  const messages = () => ctx.server.running.services.store.db.selectFrom('sms_messages').selectAll().orderBy('id').execute();
  const events = () => ctx.server.running.services.store.db.selectFrom('events').selectAll().orderBy('id').execute();

  it('normalises the recipient, renders the default template and queues the message', async () => {
    const sent = await ctx.server.running.services.sms.send({ template: 'verification_code', to: '+1 (415) 555-0123', variables: { code: '123456', expires_in_minutes: '10' } });
    expect(sent).toMatchObject({ status: 'queued', to: '+14155550123', testNumber: false });
    const [row] = await messages();
    expect(row).toMatchObject({ id: sent.id, body: '123456 is your authn.sh verification code. It expires in 10 minutes.', encoding: 'GSM-7', segments: 1, status: 'queued' });
    const [event] = await events();
    expect(event).toMatchObject({ type: 'sms.queued' });
    expect(event!.data).not.toContain('123456');
  });

  it('refuses an invalid number and queues nothing', async () => {
    const before = (await messages()).length;
    await expect(ctx.server.running.services.sms.send({ template: 'verification_code', to: '+1 555 000', variables: { code: '1' } })).rejects.toMatchObject({ status: 422, code: 'form_param_format_invalid' });
    expect((await messages()).length).toBe(before);
  });

  it('no-ops the reserved test range but records it', async () => {
    const sent = await ctx.server.running.services.sms.send({ template: 'verification_code', to: '+15555550142', variables: { code: '1' } });
    expect(sent).toMatchObject({ status: 'test_noop', testNumber: true });
    expect((await events()).at(-1)!.type).toBe('sms.queued');
  });
});
