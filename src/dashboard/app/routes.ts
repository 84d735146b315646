/** The dashboard's pages: where each lives, what it is called and where it sits in the navigation. */
import type { FunctionComponent } from 'preact';
import { ABUSE_PATH, AbusePage } from './pages/abuse.js';
import { ALLOWED_ORIGINS_PATH, AllowedOriginsPage } from './pages/allowed-origins.js';
import { AUDIT_LOG_PATH, AuditLogPage } from './pages/audit-log.js';
import { DELIVERY_PATH, DeliveryPage } from './pages/delivery.js';
import { MESSAGES_PATH, MessagesPage } from './pages/messages.js';
import { SMS_SETTINGS_PATH, SmsSettingsPage } from './pages/sms-settings.js';
import { USERS_PATH, UsersPage } from './pages/users.js';
import { SMS_TEMPLATES_PATH, SmsTemplatesPage } from './pages/sms-templates.js';
import { WEBHOOKS_PATH, WebhooksPage } from './pages/webhooks.js';

export const HOME_PATH = SMS_SETTINGS_PATH;

export interface PageEntry {
  path: string;
  title: string;
  /** The navigation groups above the page, outermost first. */
  trail: string[];
  component: FunctionComponent;
}

export const PAGES: PageEntry[] = [
  { path: HOME_PATH, title: 'SMS', trail: ['Configure', 'Messaging'], component: SmsSettingsPage },
  { path: SMS_TEMPLATES_PATH, title: 'SMS templates', trail: ['Configure', 'Messaging'], component: SmsTemplatesPage },
  { path: WEBHOOKS_PATH, title: 'Webhooks', trail: ['Configure'], component: WebhooksPage },
  { path: ABUSE_PATH, title: 'Abuse defences', trail: ['Configure'], component: AbusePage },
  { path: ALLOWED_ORIGINS_PATH, title: 'Allowed origins', trail: ['Configure'], component: AllowedOriginsPage },
  { path: USERS_PATH, title: 'Users', trail: ['Manage'], component: UsersPage },
  { path: MESSAGES_PATH, title: 'Messages', trail: ['Activity'], component: MessagesPage },
  { path: DELIVERY_PATH, title: 'Delivery & cost', trail: ['Activity'], component: DeliveryPage },
  { path: AUDIT_LOG_PATH, title: 'Audit log', trail: ['Activity'], component: AuditLogPage },
];

export interface NavGroup {
  name: string;
  pages: PageEntry[];
  groups: NavGroup[];
}

/** The pages as a tree of named groups, in the order of PAGES. */
export function navTree(pages: PageEntry[] = PAGES, depth = 0): NavGroup[] {
  const groups: NavGroup[] = [];
  for (const page of pages) {
    const name = page.trail[depth];
    if (name === undefined) continue;
    if (!groups.some((group) => group.name === name)) groups.push({ name, pages: [], groups: [] });
  }
  for (const group of groups) {
    const inGroup = pages.filter((page) => page.trail[depth] === group.name);
    group.pages = inGroup.filter((page) => page.trail.length === depth + 1);
    group.groups = navTree(inGroup, depth + 1);
  }
  return groups;
}
