/**
 * Webhook delivery end to end: events recorded → fanned out → claimed → POSTed (signed) to a local receiver →
 * recorded as succeeded. Deliveries per second, on SQLite and PostgreSQL, one endpoint, default concurrency.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BenchRow } from '../run.js';
import { recordEvent } from '../../src/webhooks/events.js';
import { createTestStore, startTestServer, type StoreKind } from '../../test/helpers/server.js';

export const title = 'Webhook delivery (events recorded → delivered to a loopback receiver and recorded)';

const EVENTS = 2_000;

async function measure(kind: StoreKind): Promise<BenchRow> {
  let received = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const store = await createTestStore(kind);
  const server = await startTestServer(store, {
    env: {
      AUTHN_WEBHOOKS_ALLOW_PRIVATE: 'true',
      AUTHN_WEBHOOKS_POLL_INTERVAL_MS: '20',
      AUTHN_WEBHOOKS_ENDPOINT_CONCURRENCY: '32',
      AUTHN_LOG_LEVEL: 'warn',
    },
  });
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await server.bapi('POST', '/v1/webhooks/endpoints', { url });
    const { db } = server.running.services.store;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < EVENTS; i++) await recordEvent(db, server.running.services.clock, { type: 'sms.delivered', data: { n: i } });
    const recordedMs = performance.now() - started;
    for (;;) {
      const row = await db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'succeeded')
        .executeTakeFirstOrThrow();
      if (Number(row.n) >= EVENTS) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const totalMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      name: `${EVENTS} events, 1 endpoint (${kind})`,
      figures: {
        'deliveries/s': (EVENTS / totalMs) * 1000,
        'events recorded/s': (EVENTS / recordedMs) * 1000,
        'CPU ms/delivery': (cpu.user + cpu.system) / 1000 / EVENTS,
        received,
      },
    };
  } finally {
    await server.close();
    await store.cleanup();
    receiver.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  return [await measure('sqlite'), await measure('postgres')];
}
