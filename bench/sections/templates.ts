/**
 * SMS template rendering, in process: what every send pays before it reaches the store (value checks,
 * rendering, the origin-bound line, encoding detection and segment count).
 */
import type { BenchRow } from '../run.js';
import { defaultSettings, mergePatch } from '../../src/instance/settings.js';
import { TEMPLATES } from '../../src/sms/templates/catalogue.js';
import { composeMessage } from '../../src/sms/templates/message.js';
import { measureSms } from '../../src/sms/encoding.js';

export const title = 'SMS templates: render and measure (in process)';

function rate(name: string, iterations: number, fn: (i: number) => unknown): BenchRow {
  for (let i = 0; i < 1_000; i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, figures: { 'ops/s': Math.round(iterations / seconds), 'µs/op': (seconds / iterations) * 1e6 } };
}

export async function run(): Promise<BenchRow[]> {
  const plain = defaultSettings();
  const originBound = mergePatch(plain, { sms: { origin_bound_codes: { enabled: true, domain: 'app.example.com' } } }, defaultSettings());
  const body = TEMPLATES.verification_code.body;
  const code = (i: number) => String(100_000 + (i % 900_000));
  const longUcs2 = 'Ваш код подтверждения 😀 '.repeat(26);
  return [
    rate('verification_code, default body', 200_000, (i) =>
      composeMessage('verification_code', body, { code: code(i), expires_in_minutes: '10' }, plain),
    ),
    rate('verification_code + origin-bound line', 200_000, (i) =>
      composeMessage('verification_code', body, { code: code(i), expires_in_minutes: '10' }, originBound),
    ),
    rate('invitation with an end-user name to clean', 200_000, () =>
      composeMessage(
        'invitation',
        TEMPLATES.invitation.body,
        { inviter_name: 'Ada\nLovelace 1815', action_url: 'https://app.example.com/i/abc' },
        plain,
      ),
    ),
    rate(`measure a ${measureSms(longUcs2).segments}-segment UCS-2 text`, 50_000, () => measureSms(longUcs2)),
  ];
}
