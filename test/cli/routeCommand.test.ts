import { describe, expect, it } from 'vitest';
import { routeJson, routeTable } from '../../src/cli/routeCommand.js';
import type { RouteInfo } from '../../src/netlink/routeMessage.js';

const r: RouteInfo = {
  family: 4, dst: '198.18.8.0/24', prefix: 24, ifindex: 7, dev: 'tun0', via: undefined, src: undefined, metric: 50, table: 254,
  protocol: 'boot', scope: 'link', routeType: 'unicast', nexthops: undefined,
};

describe('route show', () => {
  it('gives JSON with nulls for what a route lacks', () => {
    expect(routeJson(r)).toEqual({ family: 4, dst: '198.18.8.0/24', dev: 'tun0', via: null, src: null, metric: 50, table: 254, protocol: 'boot', scope: 'link', type: 'unicast' });
  });

  it('aligns a table, naming the well-known tables and non-unicast types', () => {
    const lines = routeTable([routeJson(r), routeJson({ ...r, family: 6, dst: 'fd00::1/128', dev: undefined, via: 'fd00::2', table: 255, routeType: 'local', metric: 0 })]);
    expect(lines[0]).toMatch(/^DESTINATION\s+GATEWAY\s+DEV\s+METRIC\s+TABLE\s+PROTOCOL\s+SCOPE$/);
    expect(lines[1]!.split(/\s+/)).toEqual(['198.18.8.0/24', '-', 'tun0', '50', 'main', 'boot', 'link']);
    expect(lines[2]!.split(/\s+/)).toEqual(['local', 'fd00::1/128', 'fd00::2', '-', '0', 'local', 'boot', 'link']);
    expect(lines[1]!.indexOf('tun0')).toBe(lines[0]!.indexOf('DEV'));
  });
});
