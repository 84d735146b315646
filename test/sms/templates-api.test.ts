/**
 * /v1/templates/sms through the real HTTP stack, on SQLite and PostgreSQL: reading, merge patches, refusals
 * that change nothing, revert, preview, encodings and segment counts at the boundaries, origin-bound codes,
 * the Twilio messaging service, the audit log, and sends that pick up a change.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { STORES, useTestServer } from '../helpers/server.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const MSID = 'MG0123456789abcdef0123456789abcdef';
const TOKEN = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';

const DEFAULT_VERIFICATION = '{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.';
// Sample message: "123456 is your authn.sh verification code. It expires in 10 minutes." (68 characters).
const DEFAULT_VERIFICATION_VIEW = {
  object: 'sms_template',
  slug: 'verification_code',
  name: 'Verification code',
  body: DEFAULT_VERIFICATION,
  from_number_override: null,
  from_number_override_ignored: false,
  delivered_by_us: true,
  customised: false,
  available_variables: ['code', 'app_name', 'expires_in_minutes'],
  required_variables: ['code'],
  sample_message: '123456 is your authn.sh verification code. It expires in 10 minutes.',
  encoding: 'GSM-7',
  characters: 68,
  segments: 1,
  updated_at: null,
};

describe.each(STORES)('SMS templates API on %s', (kind) => {
  const ctx = useTestServer(kind);

  const db = () => ctx.server.running.services.store.db;
  const get = async (slug: string) => (await ctx.server.bapi('GET', `/v1/templates/sms/${slug}`)).json();
  const patch = (slug: string, body: unknown) => ctx.server.bapi('PATCH', `/v1/templates/sms/${slug}`, body);
  const preview = (slug: string, body: unknown) => ctx.server.bapi('POST', `/v1/templates/sms/${slug}/preview`, body);
  const revert = (slug: string) => ctx.server.bapi('POST', `/v1/templates/sms/${slug}/revert`);
  const auditFor = async (action: string, slug?: string) =>
    (await ctx.server.bapi('GET', `/v1/audit_logs?action=${action}&limit=500${slug ? `&target_id=${slug}` : ''}`)).json().data;

  async function snapshot() {
    return {
      templates: (await ctx.server.bapi('GET', '/v1/templates/sms')).json(),
      rows: await db().selectFrom('sms_templates').selectAll().orderBy('slug').execute(),
      instance: (await ctx.server.bapi('GET', '/v1/instance')).json(),
      audit: (await db().selectFrom('audit_logs').select('id').execute()).length,
      messages: (await db().selectFrom('sms_messages').select('id').execute()).length,
    };
  }

  beforeEach(async () => {
    for (const slug of ['verification_code', 'reset_password_code', 'password_changed', 'invitation'])
      expect((await revert(slug)).statusCode).toBe(200);
    const res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: null, app_name: null });
    expect(res.statusCode).toBe(200);
  });

  describe('reading', () => {
    it('lists every template with its default, variables and measure', async () => {
      const res = await ctx.server.bapi('GET', '/v1/templates/sms');
      expect(res.statusCode).toBe(200);
      const { data, next_cursor } = res.json();
      expect(next_cursor).toBeNull();
      expect(data.map((t: { slug: string }) => t.slug)).toEqual([
        'verification_code',
        'reset_password_code',
        'password_changed',
        'invitation',
      ]);
      expect(data[0]).toEqual(DEFAULT_VERIFICATION_VIEW);
      expect(data[1]).toMatchObject({
        sample_message: '123456 is your authn.sh password reset code. It expires in 10 minutes.',
        characters: 70,
        segments: 1,
        required_variables: ['code'],
      });
      expect(data[2]).toMatchObject({
        sample_message: 'Your authn.sh password was changed. If this was not you, contact support.',
        characters: 73,
        required_variables: [],
        available_variables: ['app_name'],
      });
      expect(data[3]).toMatchObject({
        sample_message: 'Ada invited you to authn.sh: https://app.example.com/invite/abc123',
        characters: 66,
        available_variables: ['app_name', 'inviter_name', 'action_url'],
        required_variables: ['action_url'],
      });
    });

    it('reads one template', async () => {
      const res = await ctx.server.bapi('GET', '/v1/templates/sms/verification_code');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(DEFAULT_VERIFICATION_VIEW);
    });

    it('previews with the instance app_name', async () => {
      await ctx.server.bapi('PATCH', '/v1/instance', { app_name: 'Acme' });
      expect((await get('password_changed')).sample_message).toBe('Your Acme password was changed. If this was not you, contact support.');
    });

    it('previews with the instance code lifetime', async () => {
      expect((await ctx.server.bapi('PATCH', '/v1/instance', { abuse: { code_lifetime_minutes: 3 } })).statusCode).toBe(200);
      try {
        expect((await get('verification_code')).sample_message).toBe('123456 is your authn.sh verification code. It expires in 3 minutes.');
        expect((await get('reset_password_code')).sample_message).toBe(
          '123456 is your authn.sh password reset code. It expires in 3 minutes.',
        );
      } finally {
        await ctx.server.bapi('PATCH', '/v1/instance', { abuse: { code_lifetime_minutes: null } });
      }
    });

    it('needs a secret key', async () => {
      for (const [method, url] of [
        ['GET', '/v1/templates/sms'],
        ['GET', '/v1/templates/sms/verification_code'],
        ['PATCH', '/v1/templates/sms/verification_code'],
        ['POST', '/v1/templates/sms/verification_code/revert'],
        ['POST', '/v1/templates/sms/verification_code/preview'],
      ] as const) {
        const res = await ctx.server.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
      }
    });
  });

  describe('changing', () => {
    it('PATCH is a merge patch: absent unchanged, null back to the default', async () => {
      let res = await patch('verification_code', { body: 'Your code: {{code}}', from_number_override: '+14155550123' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        body: 'Your code: {{code}}',
        from_number_override: '+14155550123',
        delivered_by_us: true,
        customised: true,
        sample_message: 'Your code: 123456',
        characters: 17,
        segments: 1,
      });
      expect(res.json().updated_at).toEqual(expect.any(Number));

      res = await patch('verification_code', { delivered_by_us: false });
      expect(res.json()).toMatchObject({ body: 'Your code: {{code}}', from_number_override: '+14155550123', delivered_by_us: false });

      res = await patch('verification_code', { body: null });
      expect(res.json()).toMatchObject({
        body: DEFAULT_VERIFICATION,
        from_number_override: '+14155550123',
        delivered_by_us: false,
        customised: true,
      });

      // Every field back at its default: the template is the shipped one again.
      res = await patch('verification_code', { from_number_override: null, delivered_by_us: null });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(DEFAULT_VERIFICATION_VIEW);
      expect(await db().selectFrom('sms_templates').selectAll().execute()).toEqual([]);
      expect(await get('verification_code')).toEqual(DEFAULT_VERIFICATION_VIEW);
    });

    it('an empty patch changes nothing and writes no audit entry', async () => {
      const before = await snapshot();
      const res = await patch('verification_code', {});
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(DEFAULT_VERIFICATION_VIEW);
      expect(await snapshot()).toEqual(before);
    });

    it('audits each change with the actor and the fields changed', async () => {
      await patch('invitation', { body: '{{inviter_name}}: {{action_url}}', delivered_by_us: false });
      const [entry] = await auditFor('sms_template.updated');
      expect(entry).toMatchObject({
        actor: { type: 'secret_key', id: expect.stringMatching(/^sk_/) },
        target: { type: 'sms_template', id: 'invitation' },
      });
      expect(entry.data.changes).toEqual([
        { path: 'body', old: '{{inviter_name}} invited you to {{app_name}}: {{action_url}}', new: '{{inviter_name}}: {{action_url}}' },
        { path: 'delivered_by_us', old: true, new: false },
      ]);
      await revert('invitation');
      const [reverted] = await auditFor('sms_template.reverted');
      expect(reverted).toMatchObject({ target: { type: 'sms_template', id: 'invitation' } });
      expect(reverted.data.changes).toEqual([
        { path: 'body', old: '{{inviter_name}}: {{action_url}}', new: '{{inviter_name}} invited you to {{app_name}}: {{action_url}}' },
        { path: 'delivered_by_us', old: false, new: true },
      ]);
    });

    it('keeps both of two concurrent patches of different fields', async () => {
      const results = await Promise.all([
        patch('reset_password_code', { body: 'Reset: {{code}}' }),
        patch('reset_password_code', { delivered_by_us: false }),
        patch('reset_password_code', { from_number_override: '12345' }),
      ]);
      for (const res of results) expect(res.statusCode).toBe(200);
      expect(await get('reset_password_code')).toMatchObject({
        body: 'Reset: {{code}}',
        delivered_by_us: false,
        from_number_override: '12345',
      });
      expect(await auditFor('sms_template.updated', 'reset_password_code')).toHaveLength(3);
    });
  });

  describe('refusals change nothing', () => {
    it.each([
      ['an unknown slug', 'email_code', { body: 'x' }, 404, 'sms_template_not_found', 'slug'],
      ['an unknown variable', 'verification_code', { body: '{{code}} for {{username}}' }, 422, 'sms_template_variable_unknown', 'body'],
      ['a missing {{code}}', 'verification_code', { body: 'Your code is ready' }, 422, 'sms_template_variable_missing', 'body'],
      ['a missing {{action_url}}', 'invitation', { body: 'Join us' }, 422, 'sms_template_variable_missing', 'body'],
      ['bad syntax', 'verification_code', { body: '{{#code}}{{code}}{{/code}}' }, 422, 'sms_template_syntax_invalid', 'body'],
      ['an empty body', 'password_changed', { body: '' }, 422, 'sms_template_body_empty', 'body'],
      ['a body past 10 segments', 'verification_code', { body: `{{code}} ${'a'.repeat(1524)}` }, 422, 'sms_template_too_long', 'body'],
      [
        'a malformed override',
        'verification_code',
        { from_number_override: '+1234' },
        422,
        'form_param_format_invalid',
        'from_number_override',
      ],
      [
        'an override with spaces',
        'verification_code',
        { from_number_override: 'Acme Auth' },
        422,
        'form_param_format_invalid',
        'from_number_override',
      ],
      ['a wrong type', 'verification_code', { delivered_by_us: 'no' }, 422, 'form_param_type_invalid', 'delivered_by_us'],
      ['a number for the body', 'verification_code', { body: 42 }, 422, 'form_param_type_invalid', 'body'],
      ['an unknown field', 'verification_code', { subject: 'Hi' }, 422, 'form_param_unknown', 'subject'],
    ])('%s', async (_name, slug, body, status, code, param) => {
      await patch('verification_code', { body: 'Code {{code}}', delivered_by_us: false });
      const before = await snapshot();
      const res = await patch(slug, body);
      expect(res.statusCode).toBe(status);
      expect(res.json().errors).toContainEqual(expect.objectContaining({ code, meta: expect.objectContaining({ param_name: param }) }));
      expect(await snapshot()).toEqual(before);
    });

    it('names every problem at once and applies none of the patch', async () => {
      await patch('verification_code', { body: 'Code {{code}}' });
      const before = await snapshot();
      const res = await patch('verification_code', {
        body: 'No code for {{user}}',
        from_number_override: 'bad sender!',
        delivered_by_us: false,
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors.map((e: { code: string; meta: { param_name: string } }) => [e.code, e.meta.param_name])).toEqual([
        ['sms_template_variable_unknown', 'body'],
        ['sms_template_variable_missing', 'body'],
        ['form_param_format_invalid', 'from_number_override'],
      ]);
      expect(res.json().errors[0].meta.variable).toBe('user');
      expect(res.json().errors[1].meta.variable).toBe('code');
      expect(await snapshot()).toEqual(before);
    });

    it('reports the measure of a body that is too long', async () => {
      const res = await patch('password_changed', { body: '😀'.repeat(336) });
      expect(res.statusCode).toBe(422);
      // 336 emoji = 672 UCS-2 units; 33 emoji (66 units) per 67-unit segment: 11 segments.
      expect(res.json().errors[0].meta).toEqual({ param_name: 'body', encoding: 'UCS-2', characters: 672, segments: 11, max_segments: 10 });
    });

    it('unknown slugs are 404 on every route', async () => {
      const before = await snapshot();
      for (const res of [await ctx.server.bapi('GET', '/v1/templates/sms/nope'), await revert('nope'), await preview('nope', {})]) {
        expect(res.statusCode).toBe(404);
        expect(res.json().errors[0]).toMatchObject({ code: 'sms_template_not_found', meta: { param_name: 'slug' } });
      }
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('revert', () => {
    it('restores the shipped default exactly after any sequence of patches', async () => {
      const defaults = (await ctx.server.bapi('GET', '/v1/templates/sms')).json();
      // A fixed pseudo-random walk through patches of every field, on every slug.
      let seed = 7;
      const next = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const bodies: Record<string, string[]> = {
        verification_code: ['A {{code}}', '{{code}} — {{app_name}}', '{{ code }} {{expires_in_minutes}}m', 'Код: {{code}}'],
        reset_password_code: ['Reset {{code}}', '{{code}}!'],
        password_changed: ['Changed.', 'Your {{app_name}} password changed 🔐'],
        invitation: ['Join: {{action_url}}', '{{inviter_name}} → {{action_url}}'],
      };
      const overrides = [null, '+14155550123', '12345', 'AcmeAuth'];
      for (const slug of Object.keys(bodies)) {
        for (let step = 0; step < 6; step++) {
          const change: Record<string, unknown> = {};
          if (next(2)) change.body = next(4) === 0 ? null : bodies[slug]![next(bodies[slug]!.length)];
          if (next(2)) change.from_number_override = overrides[next(overrides.length)];
          if (next(2)) change.delivered_by_us = [true, false, null][next(3)];
          expect((await patch(slug, change)).statusCode).toBe(200);
        }
        // And one last change so there is something to revert.
        expect((await patch(slug, { delivered_by_us: false })).statusCode).toBe(200);
        const res = await revert(slug);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual(defaults.data.find((t: { slug: string }) => t.slug === slug));
      }
      expect((await ctx.server.bapi('GET', '/v1/templates/sms')).json()).toEqual(defaults);
      expect(await db().selectFrom('sms_templates').selectAll().execute()).toEqual([]);
    });

    it('reverting a template at its default succeeds and writes nothing', async () => {
      const before = await snapshot();
      const res = await revert('verification_code');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(DEFAULT_VERIFICATION_VIEW);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('preview', () => {
    it('renders the stored body with sample values', async () => {
      await patch('verification_code', { body: 'Code {{code}}, valid {{expires_in_minutes}} min' });
      const res = await preview('verification_code', {});
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        object: 'sms_template_preview',
        slug: 'verification_code',
        body: 'Code {{code}}, valid {{expires_in_minutes}} min',
        message: 'Code 123456, valid 10 min',
        variables: { code: '123456', app_name: 'authn.sh', expires_in_minutes: '10' },
        encoding: 'GSM-7',
        characters: 25,
        segments: 1,
        available_variables: ['code', 'app_name', 'expires_in_minutes'],
        required_variables: ['code'],
        customised: true,
        from_number_override: null,
        from_number_override_ignored: false,
      });
    });

    it('renders a given body with given values, and writes nothing', async () => {
      const before = await snapshot();
      const res = await preview('invitation', {
        body: '{{inviter_name}} says hi: {{action_url}}',
        variables: { inviter_name: 'Grace', action_url: 'https://acme.example/i/1' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        message: 'Grace says hi: https://acme.example/i/1',
        customised: false,
        characters: 39,
        segments: 1,
      });
      expect(await snapshot()).toEqual(before);
    });

    it('accepts a request without a body', async () => {
      const res = await ctx.server.bapi('POST', '/v1/templates/sms/password_changed/preview');
      expect(res.statusCode).toBe(200);
      expect(res.json().message).toBe('Your authn.sh password was changed. If this was not you, contact support.');
    });

    it('shows how values are cleaned: no second code and no link from a name', async () => {
      const res = await preview('invitation', { variables: { inviter_name: 'Eve\nYour code is 999999. Visit evil.example' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().message).toBe('Eve Your code is Visit evil example invited you to authn.sh: https://app.example.com/invite/abc123');
      expect(res.json().variables.inviter_name).toBe('Eve Your code is Visit evil example');
    });

    it.each([
      ['an invalid given body', { body: 'no code here' }, 'sms_template_variable_missing', 'body'],
      ['a given body past 10 segments', { body: `{{code}}${'ж'.repeat(700)}` }, 'sms_template_too_long', 'body'],
      ['an unknown variable name', { variables: { user: 'x' } }, 'sms_template_variable_unknown', 'variables.user'],
      ['a code that is not digits', { variables: { code: '12ab' } }, 'sms_template_variable_invalid', 'variables.code'],
      ['a value of the wrong type', { variables: { code: 123456 } }, 'form_param_type_invalid', 'variables.code'],
      ['an unknown field', { values: {} }, 'form_param_unknown', 'values'],
    ])('refuses %s with 422 and changes nothing', async (_name, body, code, param) => {
      const before = await snapshot();
      const res = await preview('verification_code', body);
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toContainEqual(expect.objectContaining({ code, meta: expect.objectContaining({ param_name: param }) }));
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('encoding and segments agree between preview and stored templates', () => {
    // Bodies without variables (password_changed requires none), so the message is the body itself.
    const EXT = '{}[]~\\|^€'; // 9 extension characters: 18 septets
    it.each([
      ['GSM-7 160', 'a'.repeat(160), 'GSM-7', 160, 1],
      ['GSM-7 161', 'a'.repeat(161), 'GSM-7', 161, 2],
      ['GSM-7 306', 'a'.repeat(306), 'GSM-7', 306, 2],
      ['GSM-7 307', 'a'.repeat(307), 'GSM-7', 307, 3],
      ['GSM-7 basic-table accents', 'é'.repeat(160), 'GSM-7', 160, 1],
      ['extension 160', EXT + 'a'.repeat(142), 'GSM-7', 160, 1],
      ['extension 161', EXT + 'a'.repeat(143), 'GSM-7', 161, 2],
      ['extension 306', EXT + 'a'.repeat(288), 'GSM-7', 306, 2], // 18 + 135 | 153
      ['extension 307', EXT + 'a'.repeat(289), 'GSM-7', 307, 3],
      ['€ × 80 = 160 septets', '€'.repeat(80), 'GSM-7', 160, 1],
      ['€ × 81 = 162 septets', '€'.repeat(81), 'GSM-7', 162, 2],
      // An escape pair never straddles two segments: 152 | € + 151 | 1.
      ['a pair at the boundary', 'a'.repeat(152) + '€' + 'a'.repeat(152), 'GSM-7', 306, 3],
      ['UCS-2 70 (Cyrillic)', 'ж'.repeat(70), 'UCS-2', 70, 1],
      ['UCS-2 71 (Cyrillic)', 'ж'.repeat(71), 'UCS-2', 71, 2],
      ['UCS-2 134 (Cyrillic)', 'ж'.repeat(134), 'UCS-2', 134, 2],
      ['UCS-2 135 (Cyrillic)', 'ж'.repeat(135), 'UCS-2', 135, 3],
      ['UCS-2 70 (Chinese)', '漢'.repeat(70), 'UCS-2', 70, 1],
      ['UCS-2 71 (Arabic)', 'ع'.repeat(71), 'UCS-2', 71, 2],
      ['one non-GSM character makes it all UCS-2', 'a'.repeat(69) + 'ç', 'UCS-2', 70, 1],
      ['an emoji makes it UCS-2', 'a'.repeat(69) + '😀', 'UCS-2', 71, 2],
      ['emoji × 35 = 70 units', '😀'.repeat(35), 'UCS-2', 70, 1],
      ['emoji at 134 units', 'a'.repeat(132) + '😀', 'UCS-2', 134, 2], // 67 | 65 + pair
      ['emoji at 135 units', 'a'.repeat(133) + '😀', 'UCS-2', 135, 3], // 67 | 66 | pair
      // A surrogate pair never straddles two segments: 33 emoji (66 units) per segment.
      ['emoji × 67 = 134 units', '😀'.repeat(67), 'UCS-2', 134, 3],
    ])('%s', async (_name, body, encoding, characters, segments) => {
      const given = await preview('password_changed', { body });
      expect(given.statusCode).toBe(200);
      expect(given.json()).toMatchObject({ message: body, encoding, characters, segments });

      const stored = await patch('password_changed', { body });
      expect(stored.statusCode).toBe(200);
      expect(stored.json()).toMatchObject({ body, sample_message: body, encoding, characters, segments });
      expect(await get('password_changed')).toMatchObject({ encoding, characters, segments });
      expect((await preview('password_changed', {})).json()).toMatchObject({ message: body, encoding, characters, segments });
    });

    it('variables count as rendered: {{app_name}} with a non-GSM name makes the message UCS-2', async () => {
      await ctx.server.bapi('PATCH', '/v1/instance', { app_name: 'Ωmega Çafé' }); // Ω is GSM-7, lower-case ç is not
      expect(await get('password_changed')).toMatchObject({
        sample_message: 'Your Ωmega Çafé password was changed. If this was not you, contact support.',
        encoding: 'GSM-7',
        characters: 75,
      });
      await ctx.server.bapi('PATCH', '/v1/instance', { app_name: 'Ωmega çafé' });
      expect(await get('password_changed')).toMatchObject({ encoding: 'UCS-2', characters: 75, segments: 2 });
    });
  });

  describe('origin-bound codes', () => {
    const enable = () =>
      ctx.server.bapi('PATCH', '/v1/instance', { sms: { origin_bound_codes: { enabled: true, domain: 'app.example.com' } } });

    it('the setting is part of /v1/instance, validated and audited', async () => {
      let res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { origin_bound_codes: { enabled: true } } });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toEqual([
        expect.objectContaining({ code: 'form_param_missing', meta: { param_name: 'sms.origin_bound_codes.domain' } }),
      ]);
      res = await ctx.server.bapi('PATCH', '/v1/instance', { sms: { origin_bound_codes: { domain: 'https://app.example.com' } } });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toEqual([
        expect.objectContaining({ code: 'form_param_format_invalid', meta: { param_name: 'sms.origin_bound_codes.domain' } }),
      ]);
      res = await enable();
      expect(res.statusCode).toBe(200);
      expect(res.json().sms.origin_bound_codes).toEqual({ enabled: true, domain: 'app.example.com' });
      const [entry] = await auditFor('instance.updated');
      expect(entry.data.changes).toEqual([
        { path: 'sms.origin_bound_codes.enabled', old: false, new: true },
        { path: 'sms.origin_bound_codes.domain', old: null, new: 'app.example.com' },
      ]);
    });

    it('appends the line to verification_code: templates, previews and segments count it', async () => {
      await enable();
      // 68 + newline + "@app.example.com #123456" (24) = 93.
      expect(await get('verification_code')).toMatchObject({
        sample_message: '123456 is your authn.sh verification code. It expires in 10 minutes.\n@app.example.com #123456',
        characters: 93,
        segments: 1,
      });
      expect((await preview('verification_code', { variables: { code: '424242' } })).json().message).toBe(
        '424242 is your authn.sh verification code. It expires in 10 minutes.\n@app.example.com #424242',
      );
      // 130 + 6 = 136 septets alone; with the line 161: two segments.
      const res = await preview('verification_code', { body: `${'a'.repeat(130)}{{code}}` });
      expect(res.json()).toMatchObject({ characters: 161, segments: 2 });
      expect((await get('reset_password_code')).sample_message).not.toContain('@app.example.com');
    });

    it('refuses to enable it when a stored verification body would pass 10 segments, and changes nothing', async () => {
      // 1524 + 6 = 1530 septets: exactly 10 segments without the line.
      expect((await patch('verification_code', { body: `${'a'.repeat(1524)}{{code}}` })).statusCode).toBe(200);
      const before = await snapshot();
      const res = await enable();
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toEqual([
        expect.objectContaining({
          code: 'sms_template_too_long',
          meta: expect.objectContaining({ param_name: 'sms.origin_bound_codes', template: 'verification_code' }),
        }),
      ]);
      expect(await snapshot()).toEqual(before);
    });

    it('a patch that would push the body past 10 segments with the line is refused', async () => {
      await enable();
      const before = await snapshot();
      const res = await patch('verification_code', { body: `${'a'.repeat(1524)}{{code}}` });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors[0]).toMatchObject({ code: 'sms_template_too_long', meta: { characters: 1555, segments: 11 } });
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('senders', () => {
    it('says the override is ignored while a Twilio messaging service SID is configured', async () => {
      await patch('verification_code', { from_number_override: '+14155550123' });
      expect(await get('verification_code')).toMatchObject({ from_number_override: '+14155550123', from_number_override_ignored: false });
      await ctx.server.bapi('PATCH', '/v1/instance', {
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: SID, auth_token: TOKEN } },
      });
      expect(await get('verification_code')).toMatchObject({ from_number_override_ignored: false });
      await ctx.server.bapi('PATCH', '/v1/instance', { sms: { twilio: { messaging_service_sid: MSID } } });
      expect(await get('verification_code')).toMatchObject({ from_number_override: '+14155550123', from_number_override_ignored: true });
      expect((await preview('verification_code', {})).json()).toMatchObject({ from_number_override_ignored: true });
      const list = (await ctx.server.bapi('GET', '/v1/templates/sms')).json().data;
      for (const template of list) expect(template.from_number_override_ignored).toBe(true);
    });

    it('refuses an alphanumeric override under twilio, like sms.from_number', async () => {
      await ctx.server.bapi('PATCH', '/v1/instance', {
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: SID, auth_token: TOKEN } },
      });
      const before = await snapshot();
      const res = await patch('verification_code', { from_number_override: 'AcmeAuth' });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toEqual([
        expect.objectContaining({ code: 'form_param_format_invalid', meta: { param_name: 'from_number_override' } }),
      ]);
      expect(await snapshot()).toEqual(before);
    });

    it('refuses switching to twilio while a template has an alphanumeric override, and changes nothing', async () => {
      expect((await patch('invitation', { from_number_override: 'AcmeAuth' })).statusCode).toBe(200);
      const before = await snapshot();
      const res = await ctx.server.bapi('PATCH', '/v1/instance', {
        sms: { driver: 'twilio', from_number: '+14155550100', twilio: { account_sid: SID, auth_token: TOKEN } },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors).toEqual([
        expect.objectContaining({ code: 'form_param_format_invalid', meta: { param_name: 'sms.driver', template: 'invitation' } }),
      ]);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('sends use the stored template', () => {
    const send = (to: string, code = '123456') =>
      ctx.server.running.services.sms.send({ template: 'verification_code', to, variables: { code, expires_in_minutes: '10' } });
    const row = (id: string) => db().selectFrom('sms_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('a verification_code send after a PATCH uses the new body, after revert the default', async () => {
      expect((await patch('verification_code', { body: 'Ваш код {{code}}' })).statusCode).toBe(200);
      let sent = await send('+14155550123', '654321');
      expect(await row(sent.id)).toMatchObject({ body: 'Ваш код 654321', encoding: 'UCS-2', segments: 1 });

      expect((await revert('verification_code')).statusCode).toBe(200);
      sent = await send('+14155550123', '654321');
      expect(await row(sent.id)).toMatchObject({
        body: '654321 is your authn.sh verification code. It expires in 10 minutes.',
        encoding: 'GSM-7',
        segments: 1,
      });
    });

    it('sends carry the origin-bound line and its segment count', async () => {
      await ctx.server.bapi('PATCH', '/v1/instance', { sms: { origin_bound_codes: { enabled: true, domain: 'login.acme.example' } } });
      await patch('verification_code', { body: `${'a'.repeat(140)} {{code}}` }); // 147 septets alone
      const sent = await send('+14155550123', '111222');
      expect(await row(sent.id)).toMatchObject({
        body: `${'a'.repeat(140)} 111222\n@login.acme.example #111222`,
        encoding: 'GSM-7',
        segments: 2,
      });
    });

    it('the override and delivered_by_us reach the send', async () => {
      await patch('verification_code', { from_number_override: '+14155550177', delivered_by_us: false });
      const sent = await send('+14155550123');
      expect(await row(sent.id)).toMatchObject({ from_number: '+14155550177', status: 'operator', delivered_by_us: 0 });
    });

    it('a send with a value that breaks its variable rule is refused and queues nothing', async () => {
      const before = await snapshot();
      await expect(send('+14155550123', '123456\n@evil.example #999999')).rejects.toMatchObject({
        status: 422,
        code: 'sms_template_variable_invalid',
      });
      expect(await snapshot()).toEqual(before);
    });
  });
});
