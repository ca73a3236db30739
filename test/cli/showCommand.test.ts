import { describe, expect, it } from 'vitest';
import { showTable, type ShowJson } from '../../src/cli/showCommand.js';

describe('showTable', () => {
  const base: ShowJson = {
    name: 'tun0', mode: 'tun', tunFlags: '0x1801', flags: { pi: false, vnetHdr: false, multiQueue: false }, persist: true,
    owner: 1000, ownerName: 'alice', group: null, groupName: null, mtu: 1500, mac: null, state: 'up', carrier: false,
    ipv4: [{ address: '198.18.0.1', prefix: 24 }], ipv6: [{ address: 'fd00::1', prefix: 64 }],
  };
  const tap: ShowJson = {
    ...base, name: 'tap10', mode: 'tap', tunFlags: '0x1002', flags: { pi: true, vnetHdr: true, multiQueue: true }, persist: false,
    owner: null, ownerName: null, group: 108, groupName: null, mtu: 9000, mac: '02:00:00:00:00:01', state: 'down', ipv4: [], ipv6: [],
  };

  it('aligns a header and one row per device', () => {
    const lines = showTable([base, tap]);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^NAME\s+MODE\s+FLAGS\s+OWNER\s+GROUP\s+PERSIST\s+MTU\s+MAC\s+STATE\s+ADDRESSES$/);
    expect(lines[1]!.split(/\s+/)).toEqual(['tun0', 'tun', '-', '1000(alice)', '-', 'yes', '1500', '-', 'up,no-carrier', '198.18.0.1/24', 'fd00::1/64']);
    expect(lines[2]!.split(/\s+/)).toEqual(['tap10', 'tap', 'pi,vnet_hdr,multi_queue', '-', '108', 'no', '9000', '02:00:00:00:00:01', 'down', '-']);
    const col = lines[0]!.indexOf('STATE');
    expect(lines[1]!.indexOf('up,no-carrier')).toBe(col);
    expect(lines[2]!.indexOf('down')).toBe(col);
  });

  it('shows a point-to-point address with its peer, without spaces', () => {
    const row = showTable([{ ...base, ipv4: [], ipv6: [{ address: 'fd00::1', prefix: 128, peer: 'fd00::2' }] }])[1]!;
    expect(row.split(/\s+/).at(-1)).toBe('fd00::1->fd00::2/128');
  });

  it('says up when the device has carrier', () => {
    expect(showTable([{ ...base, carrier: true }])[1]).toMatch(/\sup\s/);
  });
});
