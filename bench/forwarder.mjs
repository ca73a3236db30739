// The Tuncer forwarder of the forward scenario:
//   node bench/forwarder.mjs NETNS_A IF_A NETNS_B IF_B VNET
// Attaches to IF_A inside NETNS_A and IF_B inside NETNS_B (with vnetHdr and TSO offloads when
// VNET=1, passing super-packets through whole) and forwards both ways with the public batch
// API: per direction, `for await (const batch of from.batches()) await to.sendAll(batch)`.
// A received batch is a view into one interface's rx ring and is copied into the other's tx
// ring in one go (one copy per batch); it is released only when sendAll has settled, and
// waiting for room also stops reading (backpressure). Prints "ready"; ends on stdin EOF.
import { loadLib } from './lib.mjs';
const { Tuncer } = await loadLib();

const [nsA, ifA, nsB, ifB, vnetArg] = process.argv.slice(2);
const vnet = vnetArg === '1';
const open = async (netns, name) => {
  const t = await Tuncer.create({ netns, name, mode: 'tun', vnetHdr: vnet });
  if (vnet) await t.offload({ csum: true, tso4: true, tso6: true });
  return t;
};
const a = await open(nsA, ifA);
const b = await open(nsB, ifB);
async function pump(from, to) {
  try {
    for await (const batch of from.batches()) await to.sendAll(batch);
  } catch {
    /* ended */
  }
}
void pump(a, b);
void pump(b, a);
console.log('ready');
process.stdin.resume();
process.stdin.on('end', async () => {
  await Promise.allSettled([a.destroy(), b.destroy()]);
  process.exit(0);
});
