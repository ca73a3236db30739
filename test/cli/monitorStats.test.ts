import { describe, expect, it } from 'vitest';
import { MonitorStats, monitorLine, monitorLines } from '../../src/cli/monitorStats.js';
import { buildIcmp4EchoRequest, buildIcmp6EchoRequest } from '../../src/packet/icmpEcho.js';
import { buildUdp4 } from '../../src/packet/udp.js';
import { buildTunPi, ETH_P_IP } from '../../src/packet/tunPi.js';

const udp = buildUdp4({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 40000, dstPort: 9, payload: Buffer.from('hello') });
const icmp = buildIcmp4EchoRequest({ src: '198.18.0.1', dst: '198.18.0.2', id: 1, seq: 1 });
const icmp6 = buildIcmp6EchoRequest({ src: 'fd00::1', dst: 'fd00::2', id: 1, seq: 1 });

describe('MonitorStats', () => {
  it('counts packets, bytes and protocols, and rates per interval', () => {
    const s = new MonitorStats({ skip: 0, ethernet: false }, 1000);
    s.add(udp);
    s.add(udp);
    s.add(icmp);
    const first = s.sample(1500);
    expect(first.packets).toBe(3);
    expect(first.bytes).toBe(2 * udp.length + icmp.length);
    expect(first.intervalMs).toBe(500);
    expect(first.packetRate).toBe(6);
    expect(first.byteRate).toBe((2 * udp.length + icmp.length) * 2);
    expect([...first.protocols]).toEqual([['icmp', 1], ['udp', 2]]);

    s.add(icmp6);
    const second = s.sample(2500);
    expect(second.packets).toBe(4);
    expect(second.totalMs).toBe(1500);
    expect(second.packetRate).toBe(1); // one packet in the second interval of 1 s
    expect(second.byteRate).toBe(icmp6.length);
    expect([...second.protocols]).toEqual([['icmp', 1], ['icmp6', 1], ['udp', 2]]);

    const idle = s.sample(3500);
    expect(idle.packetRate).toBe(0);
    expect(idle.packets).toBe(4);
  });

  it('skips the packet-information header before classifying and counting', () => {
    const s = new MonitorStats({ skip: 4, ethernet: false }, 0);
    s.add(Buffer.concat([buildTunPi(ETH_P_IP), udp]));
    const sample = s.sample(1000);
    expect(sample.bytes).toBe(udp.length);
    expect([...sample.protocols]).toEqual([['udp', 1]]);
  });

  it('reads taps as Ethernet frames', () => {
    const frame = Buffer.concat([Buffer.from('ffffffffffff020000000001', 'hex'), Buffer.from([0x08, 0x00]), icmp]);
    const s = new MonitorStats({ skip: 0, ethernet: true }, 0);
    s.add(frame);
    s.add(Buffer.from([1, 2, 3])); // a runt frame is 'other', not an error
    expect([...s.sample(1000).protocols]).toEqual([['icmp', 1], ['other', 1]]);
  });
});

describe('monitor output', () => {
  const s = new MonitorStats({ skip: 0, ethernet: false }, 0);
  s.add(udp);
  s.add(icmp);
  const sample = s.sample(2000);

  it('draws rate, total and one line per protocol for a terminal', () => {
    const lines = monitorLines(sample);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^rate\s+1\.00 pkt\/s\s+\d+ B\/s$/);
    expect(lines[1]).toMatch(/^total\s+2 packets\s+\d+ B\s+in 2\.0 s$/);
    expect(lines[2]).toMatch(/^icmp\s+1$/);
    expect(lines[3]).toMatch(/^udp\s+1$/);
  });

  it('prints one line per interval otherwise', () => {
    const line = monitorLine('tun0', sample);
    expect(line).toBe(`tun0 t=2.0s 1.00 pkt/s ${Math.round((udp.length + icmp.length) / 2)} B/s total 2 packets ${udp.length + icmp.length} B icmp=1 udp=1`);
  });

  it('says "1 packet" for one', () => {
    const one = new MonitorStats({ skip: 0, ethernet: false }, 0);
    one.add(udp);
    expect(monitorLines(one.sample(1000))[1]).toMatch(/^total\s+1 packet\s/);
  });
});
