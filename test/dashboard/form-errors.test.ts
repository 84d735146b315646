/** The API's refusals in a form's words: labels instead of parameters, the page's order, items at their field. */
import { describe, expect, it } from 'vitest';
import type { ApiErrorDetail } from '../../src/dashboard/app/api-types.js';
import { speakErrors, type FormField } from '../../src/dashboard/app/form-errors.js';

const FIELDS: FormField[] = [
  { param: 'sms.driver', label: 'SMS driver' },
  { param: 'sms.twilio.account_sid', label: 'Account SID' },
  { param: 'sms.twilio.auth_token', label: 'Auth token' },
  { param: 'sms.from_number', label: 'From number' },
  { param: 'app_name', label: 'App name' },
  { param: 'body', label: 'Message' },
  { param: 'url', label: 'URL' },
  { param: 'to', label: 'Phone number' },
  { param: 'event_types', label: 'Events', says: { form_param_format_invalid: 'Choose at least one event, or All events.' } },
  {
    param: 'abuse.hourly_send_budget',
    label: 'Codes sent per hour',
    says: { form_param_type_invalid: 'Codes sent per hour must be a whole number.' },
  },
  { param: 'abuse.attempts_per_challenge', label: 'Wrong codes per challenge' },
  { param: 'abuse.sms_countries.countries', label: 'Countries' },
];

const error = (code: string, param: string | undefined, longMessage: string): ApiErrorDetail => ({
  code,
  message: 'Refused',
  long_message: longMessage,
  ...(param !== undefined ? { meta: { param_name: param } } : {}),
});
const spoken = (...errors: ApiErrorDetail[]) => speakErrors(errors, FIELDS).map((e) => [e.meta?.param_name, e.long_message]);

describe('speakErrors', () => {
  it('names the field by its label where the API names the parameter', () => {
    expect(
      spoken(
        error(
          'form_param_format_invalid',
          'sms.twilio.account_sid',
          'sms.twilio.account_sid must be "AC" followed by 32 letters or digits',
        ),
      ),
    ).toEqual([['sms.twilio.account_sid', 'Account SID must be "AC" followed by 32 letters or digits']]);
    expect(
      spoken(error('form_param_format_invalid', 'to', 'to must be an international number in E.164 form, such as +14155550123')),
    ).toEqual([['to', 'Phone number must be an international number in E.164 form, such as +14155550123']]);
    expect(spoken(error('sms_template_variable_missing', 'body', 'body: the body must contain {{code}}'))).toEqual([
      ['body', 'Message: the message must contain {{code}}'],
    ]);
    expect(spoken(error('webhook_url_scheme_unsupported', 'url', 'url must use http or https (got ftp)'))).toEqual([
      ['url', 'URL must use http or https (got ftp)'],
    ]);
  });

  it('names other parameters of the form by their labels too, but leaves words and template variables alone', () => {
    expect(
      spoken(
        error(
          'sms_template_too_long',
          'app_name',
          'app_name: the verification_code SMS template would break (body: …); change the template first',
        ),
      ),
    ).toEqual([['app_name', 'App name: the verification_code SMS template would break (body: …); change the template first']]);
    expect(
      spoken(
        error(
          'form_param_format_invalid',
          'sms.from_number',
          'sms.from_number is not {{app_name}}, nor app_name.x, and sms.twilio.auth_token is sent to it',
        ),
      ),
    ).toEqual([['sms.from_number', 'From number is not {{app_name}}, nor App name, and Auth token is sent to it']]);
  });

  it("says the validator's rules as a sentence would, and what a field says instead where it has its own words", () => {
    expect(
      spoken(error('form_param_format_invalid', 'abuse.attempts_per_challenge', 'abuse.attempts_per_challenge must be <= 10')),
    ).toEqual([['abuse.attempts_per_challenge', 'Wrong codes per challenge must be at most 10']]);
    expect(
      spoken(error('form_param_type_invalid', 'abuse.hourly_send_budget', 'abuse.hourly_send_budget must be an integer or null')),
    ).toEqual([['abuse.hourly_send_budget', 'Codes sent per hour must be a whole number.']]);
    expect(spoken(error('form_param_format_invalid', 'event_types', 'event_types must NOT have fewer than 1 items'))).toEqual([
      ['event_types', 'Choose at least one event, or All events.'],
    ]);
    expect(
      spoken(error('form_param_missing', 'sms.twilio.auth_token', 'sms.twilio.auth_token is required when sms.driver is twilio')),
    ).toEqual([['sms.twilio.auth_token', 'Auth token is required.']]);
  });

  it("puts an item's error at its field", () => {
    expect(
      spoken(
        error(
          'form_param_value_invalid',
          'abuse.sms_countries.countries.3',
          'abuse.sms_countries.countries must hold upper-case ISO 3166-1 alpha-2 country codes (entry 4 is not one)',
        ),
      ),
    ).toEqual([['abuse.sms_countries.countries', 'Countries must hold upper-case ISO 3166-1 alpha-2 country codes (entry 4 is not one)']]);
  });

  it('orders the errors as the page shows the fields, with errors about no field of the form first', () => {
    const errors = [
      error('form_param_format_invalid', 'app_name', 'app_name must be 1 to 40 characters on one line, without { or }'),
      error('form_param_format_invalid', 'sms.from_number', 'sms.from_number must be an E.164 number'),
      error('rate_limited', undefined, 'Too many requests'),
      error('form_param_format_invalid', 'sms.twilio.account_sid', 'sms.twilio.account_sid must be "AC" followed by 32 letters or digits'),
      error('form_param_unknown', 'sms.origin_bound_codes.domain', 'sms.origin_bound_codes.domain is not a known parameter'),
    ];
    expect(speakErrors(errors, FIELDS).map((e) => e.meta?.param_name ?? e.code)).toEqual([
      'rate_limited',
      'sms.origin_bound_codes.domain',
      'sms.twilio.account_sid',
      'sms.from_number',
      'app_name',
    ]);
    // What the form does not show is left in the API's words.
    expect(speakErrors(errors, FIELDS)[1]!.long_message).toBe('sms.origin_bound_codes.domain is not a known parameter');
  });

  it('says an error given twice once', () => {
    const twice = error('form_param_format_invalid', 'body', 'body: the body must not be empty');
    expect(speakErrors([twice, twice], FIELDS)).toHaveLength(1);
  });
});
