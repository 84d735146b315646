/**
 * Shutdown: a request that is being answered when the server closes still gets its answer, and its keep-alive
 * connection does not hold the close open afterwards (Node keeps such a socket for the keep-alive timeout).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, startTestServer, type TestServer, type TestStore } from '../helpers/server.js';

describe('server shutdown', () => {
  let store: TestStore;
  let server: TestServer;

  beforeAll(async () => {
    store = await createTestStore('sqlite');
    server = await startTestServer(store, { listen: true });
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  it('answers a request in flight at close, then ends its keep-alive connection', async () => {
    const url = new URL(server.running.url!);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk) => (received += String(chunk)));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // Headers now, body later: the request is under way when the close starts.
    const body = JSON.stringify({ app_name: 'Closing' });
    socket.write(
      `PATCH /v1/instance HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\nAuthorization: Bearer ${server.key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false);
    socket.write(body);
    // The close waits for the answer, and the server then ends the connection itself (the keep-alive timeout
    // is over a minute: the test's own timeout would fire long before that).
    await Promise.all([ended, closing]);
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received).toContain('"app_name":"Closing"');
  });
});
