/** `/v1/templates/sms`: list, read, change (merge patch), revert and preview the SMS templates. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_SEGMENTS, TEMPLATE_SLUGS, VARIABLES } from '../../sms/templates/catalogue.js';
import { Nullable, Page, StringEnum, errorResponses } from '../schemas.js';
import type { RouteOptions } from '../route-options.js';

const VARIABLE_NAMES = Object.keys(VARIABLES);

const facts = {
  slug: StringEnum(TEMPLATE_SLUGS),
  available_variables: Type.Array(StringEnum(VARIABLE_NAMES), { description: 'Variables the body may use, as {{name}}.' }),
  required_variables: Type.Array(StringEnum(VARIABLE_NAMES), { description: 'Variables the body must use.' }),
  customised: Type.Boolean({ description: 'Whether the template differs from the shipped default.' }),
  from_number_override: Nullable(Type.String({ description: 'Sender for this template instead of sms.from_number.' })),
  from_number_override_ignored: Type.Boolean({
    description: 'true while a Twilio messaging service SID is configured: the service picks the sender.',
  }),
  encoding: StringEnum(['GSM-7', 'UCS-2'] as const),
  characters: Type.Integer({ description: 'Length in the encoding: GSM-7 septets (extension characters count two) or UCS-2 code units.' }),
  segments: Type.Integer({ description: 'SMS segments: 160 / 153 per segment in GSM-7, 70 / 67 in UCS-2.' }),
};

const SmsTemplate = Type.Object({
  object: Type.Literal('sms_template'),
  ...facts,
  name: Type.String(),
  body: Type.String(),
  delivered_by_us: Type.Boolean({
    description: 'false: authn.sh sends nothing for this template; the sms.queued event carries the message for you to deliver.',
  }),
  sample_message: Type.String({
    description: 'The message with sample values (and the origin-bound line when enabled); encoding, characters and segments measure it.',
  }),
  updated_at: Nullable(Type.Integer({ description: 'ms since the epoch; null for the shipped default' })),
});

const SmsTemplatePreview = Type.Object({
  object: Type.Literal('sms_template_preview'),
  ...facts,
  body: Type.String({ description: 'The template body previewed.' }),
  message: Type.String({ description: 'The message as it would be sent.' }),
  variables: Type.Record(Type.String(), Type.String(), { description: 'The values used, after cleaning.' }),
});

const SlugParams = Type.Object({ slug: Type.String({ description: `One of ${TEMPLATE_SLUGS.join(', ')}` }) });

const TemplatePatch = Type.Object(
  {
    body: Type.Optional(
      Nullable(
        Type.String({
          description: `Text with {{variables}}; at most ${MAX_SEGMENTS} segments with sample values. null: the default body.`,
        }),
      ),
    ),
    from_number_override: Type.Optional(
      Nullable(Type.String({ description: 'Same rules as sms.from_number. null: use sms.from_number.' })),
    ),
    delivered_by_us: Type.Optional(Nullable(Type.Boolean({ description: 'null: the default (true).' }))),
  },
  { additionalProperties: false },
);

const PreviewBody = Type.Object(
  {
    body: Type.Optional(Type.String({ description: 'A body to try instead of the stored one; validated like a PATCH.' })),
    variables: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Values instead of the samples.' })),
  },
  { additionalProperties: false },
);

export const smsTemplateRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { templates } = services;

  app.get(
    '/v1/templates/sms',
    {
      schema: {
        summary: 'List the SMS templates (all of them, in a fixed order)',
        response: { 200: Page(SmsTemplate), ...errorResponses(401) },
      },
    },
    async () => ({ data: await templates.list(), next_cursor: null }),
  );

  app.get(
    '/v1/templates/sms/:slug',
    { schema: { summary: 'Read an SMS template', params: SlugParams, response: { 200: SmsTemplate, ...errorResponses(401, 404) } } },
    async (request) => templates.get(request.params.slug),
  );

  app.patch(
    '/v1/templates/sms/:slug',
    {
      schema: {
        summary: 'Change an SMS template (JSON merge patch; the result is validated as a whole, atomically)',
        params: SlugParams,
        body: TemplatePatch,
        response: { 200: SmsTemplate, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    },
    async (request) => templates.update(request.params.slug, request.body, request.actor!),
  );

  app.post(
    '/v1/templates/sms/:slug/revert',
    {
      schema: {
        summary: 'Revert an SMS template to the shipped default (body, override and flag)',
        params: SlugParams,
        response: { 200: SmsTemplate, ...errorResponses(401, 404) },
      },
    },
    async (request) => templates.revert(request.params.slug, request.actor!),
  );

  app.post(
    '/v1/templates/sms/:slug/preview',
    {
      schema: {
        summary: 'Render an SMS template (stored or given body, sample or given values) and measure it',
        params: SlugParams,
        body: PreviewBody,
        response: { 200: SmsTemplatePreview, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
      // No body at all means "the stored body with sample values", like an empty object.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => templates.preview(request.params.slug, request.body),
  );
};
