/**
 * The soak at a size CI can afford: the engine of scripts/soak.mjs (the full-size run) with
 * fewer cycles, run against src/ in this process. Create/destroy cycles across 32 mode and
 * option variants (tun/tap, tun_pi, vnet header, multi-queue, persistent then un-persisted),
 * injected worker crashes (throw, exit, hang + kill), kill(), and restart storms through a
 * one_for_one and a one_for_all supervisor, all while UDP (to every live /24 in
 * 198.18.0.0/15) and ICMP (written into the interfaces) flood them. At the end: the same
 * fds, worker threads and devices as at the start, every interface object garbage
 * collected, and memory within the stated bounds.
 */
import { expect, it } from 'vitest';
import { Supervisor, Tuncer, tuncerChild, tunctl, warmWorkerPool } from '../../src/index.js';
import { buildIcmp4EchoRequest } from '../../src/packet/icmpEcho.js';
import { describeKernel } from '../helpers/kernel.js';

interface SoakReport {
  ok: boolean;
  durationS: number;
  cycles: number;
  variantsCovered: number;
  faults: { throw: number; exit: number; hang: number };
  kills: number;
  storms: { injected: number; restarts: number; gaveUp: number };
  packets: { udpSent: number; icmpSent: number; received: number };
  interfaces: { made: number; collected: number };
  baseline: { fds: number; threads: number; devices: number; rssMiB: number; memory: { heapUsed: number } };
  end: { fds: number; threads: number; devices: number; rssMiB: number; rssPeakMiB: number; memory: { heapUsed: number } };
  leaks: { fds: number; threads: number; devices: string[]; rssGrowthMiB: number; rssAfterFirstHalfMiB: number; heapGrowthMiB: number; interfacesNotCollected: number };
  errors: string[];
}
type RunSoak = (lib: unknown, options: Record<string, number>, log?: (line: string) => void) => Promise<SoakReport>;

/** CI size; the bounds are those of the full run: 64 MiB of RSS per lane, 64 MiB of trend, 16 MiB of heap (docs/RELIABILITY.md says why). */
const CI = { cycles: 128, faults: 24, kills: 16, storms: 15, lanes: 6, burst: 8, sampleEvery: 16, warmup: 3, rssBoundMiB: 64, rssTrendMiB: 64, heapBoundMiB: 16 };

describeKernel('soak (CI size)', () => {
  it(`${CI.cycles} cycles, ${CI.faults} crashes, ${CI.kills} kills, ${CI.storms} supervised crashes under flood: nothing leaks`, async () => {
    const { runSoak } = (await import(new URL('../../scripts/soak.mjs', import.meta.url).pathname)) as { runSoak: RunSoak };
    const r = await runSoak({ Tuncer, Supervisor, tuncerChild, tunctl, buildIcmp4EchoRequest, warmWorkerPool }, CI);
    console.log(
      `[soak] ${r.durationS} s: ${r.cycles} cycles over ${r.variantsCovered} variants, crashes ${r.faults.throw}/${r.faults.exit}/${r.faults.hang} (throw/exit/hang), ` +
        `${r.kills} kills, ${r.storms.injected} supervised crashes → ${r.storms.restarts} restarts; ${r.packets.udpSent} UDP + ${r.packets.icmpSent} ICMP sent, ` +
        `${r.packets.received} received; fds ${r.baseline.fds}→${r.end.fds}, threads ${r.baseline.threads}→${r.end.threads}, devices ${r.baseline.devices}→${r.end.devices}; ` +
        `${r.interfaces.collected}/${r.interfaces.made} interface objects collected; RSS ${r.baseline.rssMiB}→${r.end.rssMiB} MiB (+${r.leaks.rssGrowthMiB}, ` +
        `${r.leaks.rssAfterFirstHalfMiB} over the first half's peak), heap ${r.baseline.memory.heapUsed}→${r.end.memory.heapUsed} MiB`,
    );
    expect(r.errors).toEqual([]);
    expect(r.cycles).toBe(CI.cycles);
    expect(r.variantsCovered).toBe(32);
    expect(r.faults.throw + r.faults.exit + r.faults.hang).toBe(CI.faults);
    expect(r.kills).toBe(CI.kills);
    expect(r.storms.restarts).toBeGreaterThanOrEqual(CI.storms);
    expect(r.storms.gaveUp).toBe(0);
    expect(r.packets.received).toBeGreaterThan(1000);
    expect(r.leaks.devices).toEqual([]);
    expect(r.leaks.fds).toBe(0);
    expect(r.leaks.threads).toBe(0);
    expect(r.leaks.interfacesNotCollected).toBe(0);
    expect(r.leaks.heapGrowthMiB).toBeLessThanOrEqual(CI.heapBoundMiB);
    expect(r.leaks.rssGrowthMiB).toBeLessThanOrEqual(CI.rssBoundMiB);
    expect(r.leaks.rssAfterFirstHalfMiB).toBeLessThanOrEqual(CI.rssTrendMiB);
    expect(r.ok).toBe(true);
  }, 120_000);
});
