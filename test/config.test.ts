import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { loadConfig } from '../src/config.js';
import { StartupError } from '../src/errors.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: '/srv/app/data',
      databaseUrl: null,
      encryptionKey: null,
      logLevel: 'info',
      publicUrl: 'http://127.0.0.1:3000',
    });
    expect(c.carriers).toMatchObject({ twilioApiUrl: 'https://api.twilio.com', vonageApiUrl: 'https://rest.nexmo.com' });
    expect(Object.isFrozen(c) && Object.isFrozen(c.carriers)).toBe(true);
  });

  it.each([
    ['AUTHN_PORT', 'abc'],
    ['AUTHN_PORT', '70000'],
    ['AUTHN_DATABASE_URL', 'mysql://x'],
    ['AUTHN_ENCRYPTION_KEY', 'dG9vIHNob3J0'],
    ['AUTHN_ENCRYPTION_KEY', 'not base64 at all!'],
    ['AUTHN_SECRET_KEY', 'sk_prod_abc'],
    ['AUTHN_PUBLIC_URL', 'ftp://example.com'],
    ['AUTHN_PUBLIC_URL', 'not a url'],
    ['AUTHN_LOG_LEVEL', 'loud'],
    ['AUTHN_TWILIO_API_URL', 'nope'],
    ['AUTHN_REDIS_URL', 'http://x'],
    ['AUTHN_CARRIER_TIMEOUT_MS', '5'],
  ])('%s=%s stops the start with a line naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(StartupError);
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('names every bad value in one line, and checks across variables only values that are good', () => {
    const start = () =>
      loadConfig({
        AUTHN_PORT: 'abc',
        AUTHN_LOG_LEVEL: 'loud',
        AUTHN_ENCRYPTION_KEY: 'c2VjcmV0c2VjcmV0',
        AUTHN_WEBHOOKS_RETRY_SCHEDULE: '5s,soon',
        // Bad itself: the lease is not also compared with the carrier timeout (its default would be).
        AUTHN_CARRIER_TIMEOUT_MS: '5',
        AUTHN_SMS_RETRY_BASE_MS: '5000',
        AUTHN_SMS_RETRY_MAX_MS: '1000',
      });
    expect(start).toThrow(StartupError);
    let message = '';
    try {
      start();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^6 problems in the environment: AUTHN_PORT must be an integer from 0 to 65535 \(got "abc"\); /);
    for (const name of [
      'AUTHN_LOG_LEVEL must be one of',
      'AUTHN_ENCRYPTION_KEY must be 32 bytes',
      'AUTHN_WEBHOOKS_RETRY_SCHEDULE must be a comma-separated list',
      'AUTHN_CARRIER_TIMEOUT_MS must be an integer from 100',
      'AUTHN_SMS_RETRY_MAX_MS must be at least AUTHN_SMS_RETRY_BASE_MS',
    ])
      expect(message).toContain(name);
    expect(message).not.toContain('AUTHN_SMS_LEASE_MS');
    expect(message).not.toContain('c2VjcmV0c2VjcmV0');
    expect(message).not.toContain('\n');
  });

  it('never echoes a key value in its error', () => {
    const secretish = 'c2VjcmV0c2VjcmV0';
    expect(() => loadConfig({ AUTHN_ENCRYPTION_KEY: secretish })).toThrow(/AUTHN_ENCRYPTION_KEY/);
    try {
      loadConfig({ AUTHN_ENCRYPTION_KEY: secretish });
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish);
    }
    try {
      loadConfig({ AUTHN_SECRET_KEY: 'sk_live_short' });
    } catch (error) {
      expect((error as Error).message).not.toContain('sk_live_short');
    }
  });

  it('reads the trusted proxies as hops or addresses, and refuses to trust everyone', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ AUTHN_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ AUTHN_TRUST_PROXY: ' 10.0.0.0/8, loopback,2001:db8::1 ' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
      '2001:db8::1',
    ]);
    expect(() => loadConfig({ AUTHN_TRUST_PROXY: 'true' })).toThrow(/^AUTHN_TRUST_PROXY=true would believe any client/);
    expect(() => loadConfig({ AUTHN_TRUST_PROXY: '10.0.0.0/33' })).toThrow(/^AUTHN_TRUST_PROXY must be .*\(got "10.0.0.0\/33"\)/);
    expect(() => loadConfig({ AUTHN_TRUST_PROXY: 'proxy.internal' })).toThrow(/^AUTHN_TRUST_PROXY must be/);
    expect(() => loadConfig({ AUTHN_TRUST_PROXY: '11' })).toThrow(/^AUTHN_TRUST_PROXY must be an integer from 1 to 10/);
  });

  it('reads when a failing webhook endpoint is disabled: a duration, or off', () => {
    expect(loadConfig({}).webhooks.disableFailingAfterMs).toBe(5 * 86_400_000);
    expect(loadConfig({ AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER: '36h' }).webhooks.disableFailingAfterMs).toBe(36 * 3_600_000);
    expect(loadConfig({ AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER: 'off' }).webhooks.disableFailingAfterMs).toBeNull();
    for (const bad of ['0d', 'never', '5 days', '-1h']) {
      expect(() => loadConfig({ AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER: bad })).toThrow(
        /^AUTHN_WEBHOOKS_DISABLE_FAILING_AFTER must be a duration/,
      );
    }
  });

  it('derives the public URL from host and port', () => {
    expect(loadConfig({ AUTHN_HOST: '0.0.0.0', AUTHN_PORT: '8080' }).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ AUTHN_PUBLIC_URL: 'https://auth.example.com/' }).publicUrl).toBe('https://auth.example.com');
  });

  it('docs/configuration.md documents every AUTHN_ variable the code reads', () => {
    const page = fs.readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const srcDir = new URL('../src/', import.meta.url);
    const files = (fs.readdirSync(srcDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const sources = files.map((f) => fs.readFileSync(new URL(f, srcDir), 'utf8')).join('\n');
    const names = new Set(sources.match(/AUTHN_[A-Z0-9_]*[A-Z0-9]\b/g));
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) expect(page, `${name} is missing from docs/configuration.md`).toContain(`\`${name}\``);
  });
});
