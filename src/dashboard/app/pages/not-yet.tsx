/**
 * Pages the dashboard does not have yet. They say so plainly and show nothing else: the dashboard only ever shows
 * what the server reports.
 */
import type { ComponentChildren } from 'preact';
import { EmptyState } from '../components/states.js';

function NotYet({ api, children }: { api: string; children: ComponentChildren }) {
  return (
    <EmptyState title="Not available yet">
      <p>{children}</p>
      <p>
        This page is not part of the dashboard yet. It will work through the BAPI's <code>{api}</code> routes; until then there is
        nothing to show here.
      </p>
    </EmptyState>
  );
}

export function MessagesPage() {
  return (
    <NotYet api="/v1/sms_messages">
      Every SMS the server handled, with its status as it changes (queued, sent, delivered, failed) and the carrier's error, filters and
      auto-refresh.
    </NotYet>
  );
}
