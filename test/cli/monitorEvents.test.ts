import { describe, expect, it } from 'vitest';
import { formatEvent } from '../../src/cli/monitorEvents.js';
import type { NetlinkEvent } from '../../src/netlink/netlinkEvent.js';

const link = { ifindex: 7, name: 'tun0', flags: 0x41, up: true, running: true, carrier: true, mtu: 1400, txqlen: 500, operstate: 'up', address: null, kind: 'tun', tun: undefined };
const names = new Map([[7, 'tun0']]);

describe('formatEvent', () => {
  it('writes link changes and deletions', () => {
    expect(formatEvent({ type: 'link', op: 'new', ...link }, names)).toBe('link tun0 #7 up running mtu 1400');
    expect(formatEvent({ type: 'link', op: 'new', ...link, up: false, running: false, mtu: 1500 }, names)).toBe('link tun0 #7 down mtu 1500');
    expect(formatEvent({ type: 'link', op: 'del', ...link }, names)).toBe('link tun0 #7 deleted');
  });

  it('writes addresses with the interface name, or its index when unknown', () => {
    const a = { ifindex: 7, name: undefined, family: 6 as const, address: 'fd00::1', prefix: 64, peer: undefined, broadcast: undefined, scope: 'global', flags: 0x80 };
    expect(formatEvent({ type: 'addr', op: 'add', ...a }, names)).toBe('addr add tun0 fd00::1/64');
    expect(formatEvent({ type: 'addr', op: 'del', ...a, ifindex: 9, peer: 'fd00::2', prefix: 128 }, names)).toBe('addr del #9 fd00::1 peer fd00::2/128');
  });

  it('writes routes as ip does: type, via, dev, metric and table only when they say something', () => {
    const r = { family: 4 as const, dst: '198.18.8.0/24', prefix: 24, ifindex: 7, dev: undefined, via: undefined, src: undefined, metric: 0, table: 254, protocol: 'boot', scope: 'link', routeType: 'unicast', nexthops: undefined };
    expect(formatEvent({ type: 'route', op: 'add', ...r }, names)).toBe('route add 198.18.8.0/24 dev tun0');
    expect(formatEvent({ type: 'route', op: 'del', ...r, via: '198.18.0.2', metric: 5, table: 1000 }, names)).toBe('route del 198.18.8.0/24 via 198.18.0.2 dev tun0 metric 5 table 1000');
    expect(formatEvent({ type: 'route', op: 'add', ...r, routeType: 'local', ifindex: undefined, table: 255 }, names)).toBe('route add local 198.18.8.0/24 dev - table 255');
  });

  it('says what an overrun means', () => {
    expect(formatEvent({ type: 'overrun' } satisfies NetlinkEvent, names)).toMatch(/events were lost/);
  });
});
