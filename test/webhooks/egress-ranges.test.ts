/**
 * The address rules against the IANA special-purpose address registries: every block that is not globally
 * reachable is refused, at endpoint creation (checkEndpointTarget) and at delivery (postJson, for a literal
 * address and for a name that resolves to one), and ordinary public addresses are accepted.
 */
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { checkEndpointTarget, isPublicAddress, postJson, type Resolver } from '../../src/webhooks/egress.js';
import { answering, useEgressReceiver } from './receiver.js';

/** Globally reachable: true, false, or null where the registry says N/A. */
type Entry = [block: string, name: string, globallyReachable: boolean | null];

/**
 * IANA IPv4 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv4-special-registry/
 * (RFC 6890), "Address Block", "Name" and "Globally Reachable", as published in 2025.
 */
const IANA_IPV4: Entry[] = [
  ['0.0.0.0/8', '"This network"', false],
  ['0.0.0.0/32', '"This host on this network"', false],
  ['10.0.0.0/8', 'Private-Use', false],
  ['100.64.0.0/10', 'Shared Address Space', false],
  ['127.0.0.0/8', 'Loopback', false],
  ['169.254.0.0/16', 'Link Local', false],
  ['172.16.0.0/12', 'Private-Use', false],
  ['192.0.0.0/24', 'IETF Protocol Assignments', false],
  ['192.0.0.0/29', 'IPv4 Service Continuity Prefix', false],
  ['192.0.0.8/32', 'IPv4 dummy address', false],
  ['192.0.0.9/32', 'Port Control Protocol Anycast', true],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', true],
  ['192.0.0.170/32', 'NAT64/DNS64 Discovery', false],
  ['192.0.0.171/32', 'NAT64/DNS64 Discovery', false],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)', false],
  ['192.31.196.0/24', 'AS112-v4', true],
  ['192.52.193.0/24', 'AMT', true],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', false],
  ['192.168.0.0/16', 'Private-Use', false],
  ['192.175.48.0/24', 'Direct Delegation AS112 Service', true],
  ['198.18.0.0/15', 'Benchmarking', false],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)', false],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)', false],
  ['240.0.0.0/4', 'Reserved', false],
  ['255.255.255.255/32', 'Limited Broadcast', false],
];

/** IANA IPv6 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv6-special-registry/, as above. */
const IANA_IPV6: Entry[] = [
  ['::1/128', 'Loopback Address', false],
  ['::/128', 'Unspecified Address', false],
  ['::ffff:0:0/96', 'IPv4-mapped Address', false],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat.', true],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat.', false],
  ['100::/64', 'Discard-Only Address Block', false],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix', false],
  ['2001::/23', 'IETF Protocol Assignments', false],
  ['2001::/32', 'TEREDO', null],
  ['2001:1::1/128', 'Port Control Protocol Anycast', true],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast', true],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast Address', true],
  ['2001:2::/48', 'Benchmarking', false],
  ['2001:3::/32', 'AMT', true],
  ['2001:4:112::/48', 'AS112-v6', true],
  ['2001:10::/28', 'Deprecated (previously ORCHID)', false],
  ['2001:20::/28', 'ORCHIDv2', true],
  ['2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', true],
  ['2001:db8::/32', 'Documentation', false],
  ['2002::/16', '6to4', null],
  ['2620:4f:8000::/48', 'Direct Delegation AS112 Service', true],
  ['3fff::/20', 'Documentation', false],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs', false],
  ['fc00::/7', 'Unique-Local', false],
  ['fe80::/10', 'Link-Local Unicast', false],
];

/**
 * Refused as well, though outside those registries: multicast, and IPv6 outside global unicast (2000::/3), where
 * the deprecated IPv4-compatible ::/96 (RFC 4291 §2.5.5.1) and site-local fec0::/10 (RFC 3879) are.
 */
const ALSO_REFUSED = ['224.0.0.0/4', 'ff00::/8', '::/96', 'fec0::/10', '4000::/2', '8000::/1'];

/** IPv4-mapped addresses and NAT64's are judged as the IPv4 address they carry: the connection goes there. */
const CARRY_IPV4: [block: string, prefix: string][] = [
  ['::ffff:0:0/96', '::ffff:'],
  ['64:ff9b::/96', '64:ff9b::'],
];

const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2a00:1450:4001:80b::200e',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
];

/** The first and last address of a block, and one just inside each end. */
function samples(cidr: string): string[] {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  const first = network.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  const last = network.kind() === 'ipv4' ? ipaddr.IPv4.broadcastAddressFromCIDR(cidr) : ipaddr.IPv6.broadcastAddressFromCIDR(cidr);
  const step = (address: ipaddr.IPv4 | ipaddr.IPv6, by: number) => {
    const bytes = address.toByteArray();
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! + by;
    return ipaddr.fromByteArray(bytes).toString();
  };
  const wide = bits < (network.kind() === 'ipv4' ? 31 : 127);
  return [first.toString(), last.toString(), ...(wide ? [step(first, 1), step(last, -1)] : [])];
}

/** Not known to be globally reachable (false or N/A), and not judged by the IPv4 address inside. */
const refusedBlocks = [...IANA_IPV4, ...IANA_IPV6]
  .filter(([block, , reachable]) => reachable !== true && !CARRY_IPV4.some(([carrier]) => carrier === block))
  .map(([block]) => block);

describe('refused address ranges against the IANA special-purpose registries', () => {
  const egress = useEgressReceiver();
  const { agents } = egress;

  const literal = (address: string) => new URL(`http://${address.includes(':') ? `[${address}]` : address}:${egress.receiver().port}/hook`);
  const deliver = (url: URL, resolve?: Resolver) =>
    postJson(url, '{}', {}, { allowPrivate: false, timeoutMs: 2_000, bodyLimitBytes: 100, agents, resolve });

  it.each([...refusedBlocks, ...ALSO_REFUSED])(
    'refuses %s, by address and by a name that resolves into it, at creation and at delivery',
    async (block) => {
      for (const address of samples(block)) {
        expect(isPublicAddress(address), address).toBe(false);
        await expect(checkEndpointTarget(literal(address), false), address).rejects.toMatchObject({ code: 'webhook_url_private' });
        await expect(checkEndpointTarget(new URL('https://hooks.example.com/x'), false, answering(address)), address).rejects.toMatchObject(
          { code: 'webhook_url_private' },
        );
        expect(await deliver(literal(address)), address).toMatchObject({ statusCode: null, error: expect.stringContaining('refused') });
        expect(await deliver(new URL(`http://hooks.example:${egress.receiver().port}/hook`), answering(address)), address).toMatchObject({
          statusCode: null,
          error: expect.stringContaining('refused'),
        });
      }
      expect(egress.receiver().received).toHaveLength(0);
    },
  );

  it.each(CARRY_IPV4)('judges %s by the IPv4 address it carries', (_block, prefix) => {
    const carrying = (ipv4: string) => `${prefix}${ipv4}`;
    for (const ipv4 of ['127.0.0.1', '169.254.169.254', '10.0.0.1', '0.0.0.0', '255.255.255.255'])
      expect(isPublicAddress(carrying(ipv4)), carrying(ipv4)).toBe(false);
    expect(isPublicAddress(carrying('8.8.8.8')), carrying('8.8.8.8')).toBe(true);
  });

  it('accepts ordinary public addresses', async () => {
    for (const address of PUBLIC) {
      expect(isPublicAddress(address), address).toBe(true);
      await expect(
        checkEndpointTarget(new URL('https://hooks.example.com/x'), false, answering(address)),
        address,
      ).resolves.toBeUndefined();
    }
  });

  it('refuses the issue’s IPv4-compatible targets, and sends nothing to them at delivery', async () => {
    for (const text of [
      'http://[::a9fe:a9fe]/latest/meta-data/',
      'http://[::127.0.0.1]:8080/',
      `http://[::127.0.0.1]:${egress.receiver().port}/hook`,
      'http://[::1.2.3.4]/',
    ]) {
      await expect(checkEndpointTarget(new URL(text), false), text).rejects.toMatchObject({ code: 'webhook_url_private' });
      expect(await deliver(new URL(text)), text).toMatchObject({ statusCode: null, error: expect.stringContaining('IPv4-compatible') });
    }
    // Written with a dotted tail, as the system's resolver writes this range: still IPv4-compatible, not mapped.
    expect(isPublicAddress('::8.8.8.8')).toBe(false);
    expect(egress.receiver().received).toHaveLength(0);
  });
});
