#!/usr/bin/env node
// Small traffic probes for the example run scripts (a ping stand-in, since Node cannot
// send ICMP, and a checksummed TCP transfer):
//
//   probe.mjs udp-echo  --port P                      answer every UDP datagram (IPv4 and IPv6)
//   probe.mjs udp-ping  --to HOST:PORT [--count N]    like ping -c N, over UDP; exit 1 if one is lost
//   probe.mjs tcp-sink  --bind HOST:PORT              hash what each client sends, answer "<bytes> <sha256>"
//   probe.mjs tcp-send  --to HOST:PORT [--bytes N]    send N random bytes, check the sink's answer
//
// HOST is an IPv4 address or a bracketed IPv6 one: [fd00:50::2]:7.
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

/** "198.18.0.1:80" or "[fd00::1]:80" → { host, port } */
function hostPort(text) {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`expected HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1], port: Number(m[2]) };
}

const family = (host) => (host.includes(':') ? 'udp6' : 'udp4');

function udpEcho(port) {
  for (const type of ['udp4', 'udp6']) {
    const s = createSocket({ type, ipv6Only: type === 'udp6' });
    s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
    s.bind(port, type === 'udp4' ? '0.0.0.0' : '::', () => console.log(`udp-echo listening on ${type} port ${port}`));
  }
}

async function udpPing(to, count) {
  const { host, port } = hostPort(to);
  const s = createSocket(family(host));
  const pending = new Map();
  s.on('message', (msg) => {
    const seq = msg.readUInt16BE(0);
    pending.get(seq)?.();
  });
  await new Promise((r) => s.bind(0, r));
  let received = 0;
  for (let seq = 1; seq <= count; seq++) {
    const payload = Buffer.alloc(56);
    payload.writeUInt16BE(seq, 0);
    const t0 = process.hrtime.bigint();
    // Up to 3 tries a sequence number: the first datagram may wait for ARP/ND.
    let ok = false;
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      ok = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), 1000);
        pending.set(seq, () => {
          clearTimeout(timer);
          resolve(true);
        });
        s.send(payload, port, host);
      });
    }
    pending.delete(seq);
    if (ok) {
      received += 1;
      console.log(`64 bytes from ${host}: udp_seq=${seq} time=${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2)} ms`);
    } else {
      console.log(`no answer from ${host} for udp_seq=${seq}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  s.close();
  console.log(`--- ${host} udp ping statistics: ${count} transmitted, ${received} received, ${(100 * (count - received)) / count}% loss`);
  return received === count ? 0 : 1;
}

function tcpSink(bind) {
  const { host, port } = hostPort(bind);
  const server = createServer((sock) => {
    const hash = createHash('sha256');
    let bytes = 0;
    sock.on('data', (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    sock.on('end', () => {
      const digest = hash.digest('hex');
      console.log(`tcp-sink: got ${bytes} bytes from ${sock.remoteAddress}, sha256 ${digest}`);
      sock.end(`${bytes} ${digest}\n`);
    });
    sock.on('error', (err) => console.error(`tcp-sink: ${err.message}`));
  });
  server.listen(port, host, () => console.log(`tcp-sink listening on ${bind}`));
}

async function tcpSend(to, total) {
  const { host, port } = hostPort(to);
  const hash = createHash('sha256');
  const sock = createConnection({ host, port });
  sock.setTimeout(15_000, () => sock.destroy(new Error('no progress for 15 s')));
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  console.log(`connected to ${to}, sending ${total} bytes`);
  const t0 = Date.now();
  let failed;
  const answer = new Promise((resolve, reject) => {
    let text = '';
    sock.on('data', (d) => (text += d));
    sock.on('end', () => resolve(text.trim()));
    sock.on('error', reject);
    sock.on('close', () => reject(failed ?? new Error('connection closed before the answer')));
  });
  answer.catch((err) => (failed = err));
  for (let sent = 0; sent < total && !failed; ) {
    const chunk = randomBytes(Math.min(64 * 1024, total - sent));
    hash.update(chunk);
    sent += chunk.length;
    if (!sock.write(chunk)) {
      await new Promise((resolve) => {
        const done = () => {
          sock.off('drain', done);
          sock.off('close', done);
          resolve();
        };
        sock.on('drain', done);
        sock.on('close', done);
      });
    }
  }
  sock.end();
  const [bytes, digest] = (await answer).split(' ');
  const ms = Date.now() - t0;
  const mine = hash.digest('hex');
  console.log(`sent ${total} bytes in ${ms} ms (${(total / 1e6 / (ms / 1000)).toFixed(1)} MB/s), sha256 ${mine}`);
  if (Number(bytes) === total && digest === mine) {
    console.log(`tcp transfer ok: the far end got ${bytes} bytes with the same sha256`);
    return 0;
  }
  console.log(`tcp transfer MISMATCH: the far end got ${bytes} bytes, sha256 ${digest}`);
  return 1;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: { port: { type: 'string' }, to: { type: 'string' }, bind: { type: 'string' }, count: { type: 'string' }, bytes: { type: 'string' } },
  });
  switch (cmd) {
    case 'udp-echo':
      return udpEcho(Number(values.port ?? 7));
    case 'udp-ping':
      process.exitCode = await udpPing(values.to, Number(values.count ?? 3));
      return;
    case 'tcp-sink':
      return tcpSink(values.bind);
    case 'tcp-send':
      process.exitCode = await tcpSend(values.to, Number(values.bytes ?? 5 * 1024 * 1024));
      return;
    default:
      console.error('usage: probe.mjs udp-echo|udp-ping|tcp-sink|tcp-send ...');
      process.exitCode = 2;
  }
}

process.on('SIGTERM', () => process.exit(0));
main().catch((err) => {
  console.error(`probe ${process.argv[2]}: ${err.message}`);
  process.exitCode = 1;
});
