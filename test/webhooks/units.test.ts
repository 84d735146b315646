/** The pieces on their own: the retry schedule, its configuration, and the egress rules (DNS rebinding). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { StartupError } from '../../src/errors.js';
import { checkEndpointTarget, isPublicAddress, postJson } from '../../src/webhooks/egress.js';
import { retryDelay } from '../../src/webhooks/schedule.js';
import { answering, useEgressReceiver } from './receiver.js';

describe('retry schedule', () => {
  const svix = loadConfig({}).webhooks.retrySchedule;

  it("defaults to Svix's schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(svix).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(svix, n, null, middle))).toEqual(svix);
    expect(retryDelay(svix, 8, null, middle)).toBeNull();
  });

  it('jitters by at most 10 % and honours Retry-After within 1× to 2× the scheduled delay', () => {
    expect(retryDelay([1_000], 1, null, () => 0)).toBe(900);
    expect(retryDelay([1_000], 1, null, () => 1)).toBe(1_100);
    const middle = () => 0.5;
    expect(retryDelay([1_000], 1, 60_000, middle)).toBe(2_000);
    expect(retryDelay([1_000], 1, 1_500, middle)).toBe(1_500);
    expect(retryDelay([1_000], 1, 0, middle)).toBe(1_000);
  });

  it('is configurable and compressible, and a bad value stops the start naming the variable', () => {
    expect(loadConfig({ AUTHN_WEBHOOKS_RETRY_SCHEDULE: '50ms, 1s,2m,1h' }).webhooks.retrySchedule).toEqual([50, 1_000, 120_000, 3_600_000]);
    for (const [name, value] of [
      ['AUTHN_WEBHOOKS_RETRY_SCHEDULE', '5 minutes'],
      ['AUTHN_WEBHOOKS_RETRY_SCHEDULE', '5s,,5m'],
      ['AUTHN_WEBHOOKS_RETRY_SCHEDULE', '200h'],
      ['AUTHN_WEBHOOKS_ALLOW_PRIVATE', 'yes'],
      ['AUTHN_WEBHOOKS_TIMEOUT_MS', '10'],
      ['AUTHN_WEBHOOKS_RESPONSE_BODY_LIMIT_BYTES', '-1'],
      ['AUTHN_WEBHOOKS_CONCURRENCY', '0'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(StartupError);
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
    expect(loadConfig({ AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true);
    expect(loadConfig({}).webhooks).toMatchObject({ allowPrivate: false, timeoutMs: 15_000, responseBodyLimitBytes: 4_096 });
  });
});

describe('egress rules', () => {
  const egress = useEgressReceiver();
  const { agents } = egress;

  it('knows public from private addresses', () => {
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700::1111']) expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd12::1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('checks every address a name resolves to at creation', async () => {
    await expect(checkEndpointTarget(new URL('https://hooks.example.com/x'), false, answering('93.184.216.34'))).resolves.toBeUndefined();
    await expect(checkEndpointTarget(new URL('https://hooks.example.com/x'), false, answering('10.0.0.7'))).rejects.toMatchObject({
      code: 'webhook_url_private',
    });
    await expect(checkEndpointTarget(new URL('https://hooks.example.com/x'), true, answering('10.0.0.7'))).resolves.toBeUndefined();
  });

  it('checks the resolved address again when connecting: a name that now resolves to loopback (rebinding) is refused', async () => {
    const url = new URL(`http://rebinding.example:${egress.receiver().port}/hook`);
    // At creation the name looked public...
    await checkEndpointTarget(url, false, answering('93.184.216.34'));
    // ...at delivery it answers 127.0.0.1, where the receiver listens: nothing is sent.
    const result = await postJson(
      url,
      '{}',
      {},
      { allowPrivate: false, timeoutMs: 2_000, bodyLimitBytes: 100, agents, resolve: answering('127.0.0.1') },
    );
    expect(result).toMatchObject({
      statusCode: null,
      error: expect.stringContaining('resolves to 127.0.0.1, a loopback address: refused'),
    });
    expect(egress.receiver().received).toHaveLength(0);
    // With private targets allowed the same request goes through.
    const allowed = await postJson(
      url,
      '{}',
      {},
      { allowPrivate: true, timeoutMs: 2_000, bodyLimitBytes: 100, agents, resolve: answering('127.0.0.1') },
    );
    expect(allowed).toMatchObject({ statusCode: 200, error: null });
  });

  it('gives up at the timeout, and reads at most the body limit', async () => {
    egress.receiver().answer = 'hang';
    const hung = await postJson(
      new URL(egress.receiver().url),
      '{}',
      {},
      { allowPrivate: true, timeoutMs: 200, bodyLimitBytes: 100, agents },
    );
    expect(hung).toMatchObject({ statusCode: null, responseBody: null, error: 'no complete answer within 200 ms' });
    egress.receiver().answer = 'big';
    const big = await postJson(
      new URL(egress.receiver().url),
      '{}',
      {},
      { allowPrivate: true, timeoutMs: 2_000, bodyLimitBytes: 100, agents },
    );
    expect(big).toMatchObject({ statusCode: 500, responseBody: 'x'.repeat(100), truncated: true, error: 'answered 500' });
  });
});
