/** The template rules without a store: body checks, variable values, the origin-bound line, the length limit. */
import { describe, expect, it } from 'vitest';
import { defaultSettings, mergePatch, validateSettings, type InstanceSettings } from '../../src/instance/settings.js';
import { TEMPLATES, TEMPLATE_SLUGS, VARIABLES } from '../../src/sms/templates/catalogue.js';
import { checkBody, renderBody } from '../../src/sms/templates/render.js';
import { checkValue } from '../../src/sms/templates/variables.js';
import { composeMessage, defaultFields, sampleValues, validateTemplate } from '../../src/sms/templates/message.js';
import { AppError } from '../../src/errors.js';

function settings(patch: unknown = {}): InstanceSettings {
  return mergePatch(defaultSettings(), patch, defaultSettings());
}

const codes = (slug: (typeof TEMPLATE_SLUGS)[number], body: string, override: string | null = null, s = settings()) =>
  validateTemplate(slug, { body, from_number_override: override, delivered_by_us: true }, s).map((e) => [
    e.code,
    e.meta?.param_name,
    e.meta?.variable,
  ]);

describe('template bodies', () => {
  it('accepts every shipped default under the default settings', () => {
    for (const slug of TEMPLATE_SLUGS) expect(validateTemplate(slug, defaultFields(slug), settings()), slug).toEqual([]);
  });

  it('every default uses only its own variables and all required ones', () => {
    for (const slug of TEMPLATE_SLUGS) {
      const { body, variables, required } = TEMPLATES[slug];
      expect(checkBody(body, variables, required)).toEqual([]);
      for (const name of variables) expect(Object.keys(VARIABLES)).toContain(name);
    }
  });

  it.each([
    ['an unknown variable', 'verification_code', 'Code {{code}} for {{user_name}}', 'sms_template_variable_unknown', 'user_name'],
    [
      'a variable of another template',
      'verification_code',
      '{{code}} from {{inviter_name}}',
      'sms_template_variable_unknown',
      'inviter_name',
    ],
    ['a missing {{code}}', 'verification_code', 'Your code is on its way', 'sms_template_variable_missing', 'code'],
    ['a missing {{action_url}}', 'invitation', '{{inviter_name}} invited you', 'sms_template_variable_missing', 'action_url'],
    ['section syntax', 'verification_code', '{{#code}}{{code}}{{/code}}', 'sms_template_syntax_invalid', undefined],
    ['an unclosed variable', 'verification_code', '{{code}} and {{app_name', 'sms_template_syntax_invalid', undefined],
    ['a dotted name', 'verification_code', '{{code}} {{app.name}}', 'sms_template_syntax_invalid', undefined],
    ['an empty body', 'password_changed', '', 'sms_template_body_empty', undefined],
    ['a blank body', 'password_changed', ' \n\t', 'sms_template_body_empty', undefined],
  ])('refuses %s', (_name, slug, body, code, variable) => {
    expect(codes(slug as 'verification_code', body)).toContainEqual([code, 'body', variable]);
  });

  it('says where a syntax error is', () => {
    const [error] = validateTemplate(
      'verification_code',
      { ...defaultFields('verification_code'), body: '{{code}} is 😀 yours }}' },
      settings(),
    );
    expect(error!.long_message).toContain('unexpected "}}" at character 21');
  });

  it('allows spaces inside the braces and single braces as text', () => {
    expect(codes('verification_code', '{{ code }} {is} your code')).toEqual([]);
  });

  it('refuses a body past 10 segments with sample values, naming the measure', () => {
    expect(codes('password_changed', 'a'.repeat(1530))).toEqual([]);
    const errors = validateTemplate('password_changed', { ...defaultFields('password_changed'), body: 'a'.repeat(1531) }, settings());
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'sms_template_too_long',
        meta: { param_name: 'body', encoding: 'GSM-7', characters: 1531, segments: 11, max_segments: 10 },
      }),
    ]);
    expect(codes('password_changed', 'ж'.repeat(670))).toEqual([]);
    expect(codes('password_changed', 'ж'.repeat(671))).toEqual([['sms_template_too_long', 'body', undefined]]);
  });

  it('counts the variables as rendered with the sample values', () => {
    // {{code}} renders as 123456: 1524 + 6 = 1530 septets is 10 segments, one more is 11.
    expect(codes('verification_code', `${'a'.repeat(1524)}{{code}}`)).toEqual([]);
    expect(codes('verification_code', `${'a'.repeat(1525)}{{code}}`)).toEqual([['sms_template_too_long', 'body', undefined]]);
  });

  it('checks the override like sms.from_number, with the driver rule for alphanumeric senders', () => {
    const body = TEMPLATES.verification_code.body;
    expect(codes('verification_code', body, '+14155550123')).toEqual([]);
    expect(codes('verification_code', body, '12345')).toEqual([]);
    expect(codes('verification_code', body, 'AcmeAuth')).toEqual([]);
    expect(codes('verification_code', body, '+1234')).toEqual([['form_param_format_invalid', 'from_number_override', undefined]]);
    expect(codes('verification_code', body, 'Acme Auth')).toEqual([['form_param_format_invalid', 'from_number_override', undefined]]);
    const twilio = settings({ sms: { driver: 'twilio' } });
    expect(codes('verification_code', body, 'AcmeAuth', twilio)).toEqual([
      ['form_param_format_invalid', 'from_number_override', undefined],
    ]);
    expect(codes('verification_code', body, '+14155550123', twilio)).toEqual([]);
  });
});

describe('variable values are plain text', () => {
  it.each([
    ['code', '123456', '123456'],
    ['code', '0000000000', '0000000000'],
    ['expires_in_minutes', '10', '10'],
    ['action_url', 'https://app.example.com/invite/abc', 'https://app.example.com/invite/abc'],
    ['action_url', 'http://localhost:3000/i/x', 'http://localhost:3000/i/x'],
    ['app_name', 'Acme\r\nCorp', 'Acme Corp'],
    ['app_name', '  {{code}}  ', 'code'],
    ['app_name', 'a'.repeat(60), 'a'.repeat(40)],
    ['inviter_name', "Ada O'Brien-Lovelace", "Ada O'Brien-Lovelace"],
    ['inviter_name', 'José 李雷', 'José 李雷'],
    // Neither a code nor a link survives in a name an end user chose.
    ['inviter_name', 'Ada\nYour code is 999999', 'Ada Your code is'],
    ['inviter_name', 'Visit evil.example.com/x', 'Visit evil example com x'],
    ['inviter_name', 'Ada https://evil.example', 'Ada https evil example'],
    ['inviter_name', 'ada@evil.example', 'ada evil example'],
    ['inviter_name', 'evil．com', 'evil com'], // a full-width full stop is a dot to IDNA
    ['inviter_name', 'Ada\u202Eevil', 'Ada evil'], // a bidi override cannot reorder the message
    ['inviter_name', '{{code}}', 'code'],
    ['inviter_name', 'x'.repeat(80), 'x'.repeat(50)],
  ] as const)('%s %j → %j', (name, raw, value) => {
    expect(checkValue(name, raw)).toEqual({ ok: true, value });
  });

  it.each([
    ['code', ''],
    ['code', '12345678901'],
    ['code', '12 34'],
    ['code', '１２３'], // full-width digits are not ASCII digits
    ['code', '123456\n@evil.example #999999'],
    ['expires_in_minutes', 'ten'],
    ['expires_in_minutes', '12345'],
    ['action_url', 'javascript:alert(1)'],
    ['action_url', 'app.example.com/invite'],
    ['action_url', 'https://app.example.com/a b'],
    ['action_url', 'https://app.example.com/{{code}}'],
    ['action_url', `https://app.example.com/${'a'.repeat(256)}`],
  ] as const)('refuses %s %j', (name, raw) => {
    expect(checkValue(name, raw)).toMatchObject({ ok: false });
  });

  it('a value is inserted once and never re-scanned', () => {
    expect(renderBody('{{a}} / {{b}}', { a: '{{b}}', b: 'B' })).toBe('{{b}} / B');
  });

  it('refuses a bad value with the variable named', () => {
    let thrown: unknown;
    try {
      composeMessage('verification_code', TEMPLATES.verification_code.body, { code: 'abc' }, settings());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).details).toEqual([
      expect.objectContaining({ code: 'sms_template_variable_invalid', meta: { param_name: 'variables.code' } }),
    ]);
  });

  it('previews app_name with the instance setting', () => {
    expect(sampleValues('password_changed', settings({ app_name: 'Acme' }))).toEqual({ app_name: 'Acme' });
    expect(sampleValues('verification_code', settings())).toEqual({ code: '123456', app_name: 'authn.sh', expires_in_minutes: '10' });
  });
});

describe('origin-bound codes', () => {
  const enabled = settings({ sms: { origin_bound_codes: { enabled: true, domain: 'app.example.com' } } });

  it('appends @domain #code as the last line of verification_code messages only', () => {
    const verification = composeMessage('verification_code', 'Code: {{code}}\n\n', { code: '424242' }, enabled);
    expect(verification).toMatchObject({ body: 'Code: 424242\n@app.example.com #424242', encoding: 'GSM-7', characters: 37, segments: 1 });
    expect(composeMessage('reset_password_code', 'Code: {{code}}', { code: '424242' }, enabled).body).toBe('Code: 424242');
  });

  it('is off by default, and off while disabled even with a domain', () => {
    expect(composeMessage('verification_code', 'Code: {{code}}', { code: '1' }, settings()).body).toBe('Code: 1');
    const off = settings({ sms: { origin_bound_codes: { enabled: false, domain: 'app.example.com' } } });
    expect(composeMessage('verification_code', 'Code: {{code}}', { code: '1' }, off).body).toBe('Code: 1');
  });

  it('counts the line in the segments', () => {
    // 136 + 1 (newline) + 24 ("@app.example.com #123456") = 161 septets: two segments, where the body alone fits one.
    const body = `${'a'.repeat(130)}{{code}}`;
    expect(composeMessage('verification_code', body, { code: '123456' }, settings())).toMatchObject({ characters: 136, segments: 1 });
    expect(composeMessage('verification_code', body, { code: '123456' }, enabled)).toMatchObject({ characters: 161, segments: 2 });
  });

  it.each([
    [{ enabled: true, domain: 'app.example.com' }, []],
    [{ enabled: true, domain: 'xn--bcher-kva.example' }, []],
    [{ enabled: false, domain: null }, []],
    [{ enabled: false, domain: 'example.com' }, []],
    [{ enabled: true, domain: null }, [['form_param_missing', 'sms.origin_bound_codes.domain']]],
    [{ enabled: true }, [['form_param_missing', 'sms.origin_bound_codes.domain']]],
    [{ domain: 'https://app.example.com' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: 'app.example.com:8443' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: 'app.example.com/login' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: 'App.Example.com' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: 'localhost' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: '192.168.0.1' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: '-bad.example.com' }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
    [{ domain: `${'a'.repeat(64)}.example.com` }, [['form_param_format_invalid', 'sms.origin_bound_codes.domain']]],
  ])('setting %j', (origin, expected) => {
    expect(validateSettings(settings({ sms: { origin_bound_codes: origin } })).map((e) => [e.code, e.meta?.param_name])).toEqual(expected);
  });
});
