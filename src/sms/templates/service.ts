/**
 * The template store the send engine reads: a stored override of a slug, or its shipped default.
 */
import { type Executor } from '../../store/database.js';
import { TEMPLATES, type TemplateSlug } from './catalogue.js';

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

export class TemplateService {
  constructor(private readonly db: Executor) {}

  async resolve(slug: TemplateSlug, executor: Executor = this.db): Promise<ResolvedTemplate> {
    const row = await executor.selectFrom('sms_templates').selectAll().where('slug', '=', slug).executeTakeFirst();
    if (!row) return defaultTemplate(slug);
    return { slug, body: row.body, from_number_override: row.from_number_override, delivered_by_us: row.delivered_by_us === 1, customised: true };
  }
}
