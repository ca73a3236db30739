// peer scenario: the rx drain scenario for other Node TUN libraries a user might pick instead,
// each against a Tuncer reader measured in the same run:
//   peer:   @xiaobaidadada/node-tuntap2-wintun (the maintained fork of tuntap2)  vs  active
//   appium: appium-ios-tuntap (the most used TUN addon on npm)                   vs  tuncerBatch
// The peers cannot attach to a device configured here, so each reader drains its own tun: N
// datagrams are queued on it by c/udpflood while nobody reads, then reading the queue empty is
// timed. A peer that could not be installed or built (bench/run.mjs writes down why) is
// reported as not measured, with the reason, and the rest of the scenario still runs.
import { scenario, args, sh, shq, child, bin, devStat, sleep, BENCH } from './lib.mjs';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const OURS = 'bpr0';
const opts = args();
const N = opts.n ?? 100_000;
const PAYLOADS = opts.payloads ?? [64, 1400];
const READERS = opts.readers ?? ['active', 'peer', 'tuncerBatch', 'appium'];
const peerDevs = new Set();

async function flood(dst, payload, n) {
  return child(bin('udpflood'), [dst, '9', String(payload), String(n)]).json(120_000);
}

/** Why a peer library cannot be measured, or undefined when it is built from source. */
function notBuilt(pkg) {
  const release = join(BENCH, 'peer', 'node_modules', ...pkg.split('/'), 'build', 'Release');
  if (existsSync(release) && readdirSync(release).some((f) => f.endsWith('.node'))) return undefined;
  const errFile = join(BENCH, 'peer', `${pkg.replace(/[@/]/g, '_')}.error`);
  return existsSync(errFile) ? readFileSync(errFile, 'utf8').trim().replace(/\s*\n\s*/g, ' | ') : `${pkg} is not installed in bench/peer (run with --only peer from bench/run.mjs)`;
}

/** A Tuncer reader (bench/rxreader.mjs KIND) on our own tun. */
async function ours(kind, payload) {
  const r = child(process.execPath, [join(BENCH, 'rxreader.mjs'), kind, OURS, String(N), 'drain']);
  await r.ready(30_000);
  const d0 = devStat(OURS, 'tx_dropped');
  const s = await flood('198.18.83.2', payload, N);
  await sleep(100);
  const queued = s.sent - (devStat(OURS, 'tx_dropped') - d0);
  r.send('go');
  const a = await r.json(120_000);
  await r.exited();
  return { value: a.packets / (a.ns / 1e9), unit: 'pps', extra: { packets: a.packets, expected: queued, preRead: a.preRead ?? 0 } };
}

/** A peer library's reader (bench/peerreader.mjs) on the tun it creates, flooded at dst. */
async function theirs(lib, dst, payload) {
  const p = child(process.execPath, [join(BENCH, 'peerreader.mjs'), String(N), lib]);
  try {
    const dev = (await p.json(30_000)).name;
    peerDevs.add(dev);
    await p.ready(30_000);
    const d0 = devStat(dev, 'tx_dropped');
    const s = await flood(dst, payload, N);
    await sleep(100);
    const queued = s.sent - (devStat(dev, 'tx_dropped') - d0);
    p.send('go');
    const b = await p.json(120_000);
    await p.exited();
    return { value: b.packets / (b.ns / 1e9), unit: 'pps', extra: { packets: b.packets, expected: queued, stalled: b.stalled } };
  } finally {
    p.kill(); // after a failure: it must not keep its tun for the next run
  }
}

await scenario(
  async (out) => {
    sh('ip', 'tuntap', 'add', 'dev', OURS, 'mode', 'tun');
    sh('ip', 'link', 'set', OURS, 'txqueuelen', '500000', 'up');
    sh('ip', 'addr', 'add', '198.18.83.1/24', 'dev', OURS);
    const appiumMissing = notBuilt('appium-ios-tuntap');
    for (const payload of PAYLOADS) {
      for (const kind of READERS) {
        const id = `peer.drain.${payload}.${kind}`;
        let m;
        if (kind === 'active' || kind === 'tuncerBatch') m = await ours(kind, payload);
        else if (kind === 'peer') m = await theirs('tuntap2', '198.18.82.2', payload);
        else if (kind === 'appium') {
          if (appiumMissing) {
            // In the table as n/a; the reason in the notes and in results.json.
            out.metrics.push({ id, value: null, unit: 'pps', extra: { error: appiumMissing } });
            out.notes.push(`${id}: not measured: ${appiumMissing}`);
            continue;
          }
          try {
            m = await theirs('appium', '198.18.84.2', payload);
          } catch (err) {
            const msg = String(err?.message ?? err).split('\n')[0];
            out.metrics.push({ id, value: null, unit: 'pps', extra: { error: msg } });
            out.notes.push(`${id}: not measured: ${msg}`);
            continue;
          }
        } else throw new Error(`unknown reader ${kind}`);
        out.metrics.push({ id, ...m });
        if (m.extra.packets !== m.extra.expected) out.notes.push(`${id}: read ${m.extra.packets} of ${m.extra.expected} queued`);
      }
    }
  },
  () => {
    shq('ip', 'link', 'del', OURS);
    for (const dev of peerDevs) shq('ip', 'link', 'del', dev);
  },
);
