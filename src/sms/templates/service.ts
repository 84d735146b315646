/**
 * The template store the send engine reads: a stored override of a slug, or its shipped default.
 */
import { type Executor } from '../../store/database.js';
import type { InstanceSettings } from '../../instance/settings.js';
import { measureSms, type SmsMeasure } from '../encoding.js';
import { TEMPLATES, type TemplateSlug } from './catalogue.js';
import { renderBody } from './render.js';

export interface ResolvedTemplate {
  slug: TemplateSlug;
  body: string;
  /** Sender for this slug; ignored while a Twilio messaging service SID is configured. */
  from_number_override: string | null;
  /** false: authn.sh does not send this slug; the operator delivers it from the sms.queued event. */
  delivered_by_us: boolean;
  /** Whether the stored template differs from the shipped default. */
  customised: boolean;
}

export function defaultTemplate(slug: TemplateSlug): ResolvedTemplate {
  return { slug, body: TEMPLATES[slug].body, from_number_override: null, delivered_by_us: true, customised: false };
}

export interface RenderedMessage extends SmsMeasure {
  body: string;
}

export class TemplateService {
  constructor(private readonly db: Executor) {}

  async resolve(slug: TemplateSlug, executor: Executor = this.db): Promise<ResolvedTemplate> {
    const row = await executor.selectFrom('sms_templates').selectAll().where('slug', '=', slug).executeTakeFirst();
    if (!row) return defaultTemplate(slug);
    return { slug, body: row.body, from_number_override: row.from_number_override, delivered_by_us: row.delivered_by_us === 1, customised: true };
  }

  /** The message a template makes for these variables (instance-wide values such as `app_name` filled in). */
  render(template: ResolvedTemplate, variables: Readonly<Record<string, string>>, settings: InstanceSettings): RenderedMessage {
    const body = renderBody(template.body, { app_name: settings.app_name, ...variables });
    return { body, ...measureSms(body) };
  }
}
