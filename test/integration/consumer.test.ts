/**
 * The package as a user gets it: `npm pack` (whose prepack builds the linux-x64 prebuild),
 * then the tarball installed into a new project with no compiler on PATH, a TypeScript
 * consumer type-checked against the shipped types (strict, NodeNext) and run: a Tuncer
 * answers an ICMP echo, and `npx tunctl --help` works.
 *
 * "No compiler": PATH holds only node, npm, npx and sh, behind stubs for cc, gcc, g++,
 * c++, clang, make, python and python3 that log their call and fail. Packing runs here,
 * in the private network namespace (it needs no network). The installs run in the
 * namespace `npm test` started from (nsenter), since npm may need the registry for
 * metadata it has not cached; `--prefer-offline` takes everything else from npm's cache.
 * Only the registry is reached: a compile would be the one thing that fetches more (node
 * headers), and the stubs would show it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeKernel, ifname, outsidePid } from '../helpers/kernel.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const STUBBED = ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python', 'python3'];
let work: string;
let tarball: string;
let app: string;
let stubLog: string;
let path: string;
let installSeconds: number;

/** Run a program; its output is part of the failure message. */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8', timeout: opts.timeout ?? 120_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

function expectOk(r: SpawnSyncReturns<string>, what: string): void {
  expect(r.status, `${what} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/**
 * A clean environment (none of `npm test`'s npm_* variables, which would point a nested npm
 * at this repository): HOME for npm's cache and config, and node's headers when node-gyp
 * would otherwise download them.
 */
function cleanEnv(pathVar: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: pathVar, npm_config_update_notifier: 'false' };
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) env.npm_config_nodedir = prefix;
  return env;
}

/** `npm install ARGS` in `cwd`, in the namespace `npm test` started from, with no compiler on PATH. */
function npmInstall(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const pid = outsidePid('net');
  if (pid === undefined) throw new Error('no ancestor outside the private network namespace');
  const env = Object.entries({ ...cleanEnv(path), ...extraEnv }).map(([k, v]) => `${k}=${v ?? ''}`);
  return run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', '/usr/bin/env', '-i', ...env, 'npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', ...args], { cwd, env: process.env });
}

function stubCalls(): string {
  return existsSync(stubLog) ? readFileSync(stubLog, 'utf8') : '';
}

/** The consumer: typed against the package's .d.ts files, run in the test's namespace. */
const CONSUMER = `import { Tuncer, TunError, packet, tunctl, type TuncerOptions } from 'tunctl';

const name = process.argv[2] ?? 'tun%d';
const opts: TuncerOptions = { name, mode: 'tun', addresses: ['198.18.76.1/24'] };
// @ts-expect-error: the shipped types know the modes; this line fails to compile if they were 'any'
const wrong: TuncerOptions = { mode: 'tun0' };
void wrong;

const tun: Tuncer = await Tuncer.create(opts);
const echo: Buffer = packet.buildIcmp4EchoRequest({ src: '198.18.76.2', dst: '198.18.76.1', id: 5, seq: 1 });
await tun.send(echo);
let from = '';
while (from === '') {
  const p: Buffer = await tun.recv({ signal: AbortSignal.timeout(5000) });
  if (p[9] === 1 && p[20] === 0) from = [...p.subarray(12, 16)].join('.');
}
let code = '';
try {
  tunctl.create('a/b');
} catch (err) {
  code = err instanceof TunError ? err.code : (err as Error).name;
}
console.log(JSON.stringify({ devname: tun.devname, from, features: tunctl.features().tun, code }));
await tun.destroy();
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true,
    types: ['node'], outDir: 'out', skipLibCheck: false,
  },
  files: ['consumer.ts'],
};

describeKernel('the packed package, installed without a compiler', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tunctl-consumer-'));
    // Pack a copy (prepack's node-gyp rebuild must not touch this checkout's build/):
    // every file git has or would add, with this checkout's node_modules.
    const src = join(work, 'src');
    const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, env: process.env }).stdout.split('\0');
    for (const f of files) if (f !== '' && existsSync(join(repo, f))) cpSync(join(repo, f), join(src, f));
    symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'));
    const pack = run('npm', ['pack', '--pack-destination', work], { cwd: src, env: cleanEnv(process.env.PATH ?? '') });
    expectOk(pack, 'npm pack');
    tarball = join(work, pack.stdout.trim().split('\n').at(-1) ?? '');

    // PATH: node, npm, npx and sh, behind failing stubs for every compiler and Python.
    const bin = join(work, 'bin');
    const stubs = join(work, 'stubs');
    stubLog = join(work, 'stub-calls.log');
    mkdirSync(bin);
    mkdirSync(stubs);
    for (const tool of ['npm', 'npx']) symlinkSync(join(dirname(process.execPath), tool), join(bin, tool));
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    for (const tool of STUBBED) writeFileSync(join(stubs, tool), `#!/bin/sh\necho "$0 $*" >> ${stubLog}\nexit 1\n`, { mode: 0o755 });
    path = `${stubs}:${bin}`;

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    const versions = (name: string): string => (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    const started = Date.now();
    const install = npmInstall(app, [tarball, `typescript@${versions('typescript')}`, `@types/node@${versions('@types/node')}`]);
    installSeconds = (Date.now() - started) / 1000;
    expectOk(install, 'npm install of the tarball');
    console.log(`consumer: npm install of the tarball, typescript and @types/node took ${installSeconds.toFixed(1)} s`);
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the linux-x64 glibc prebuild and installed it without compiling anything', () => {
    const pkg = join(app, 'node_modules/tunctl');
    expect(readdirSync(join(pkg, 'prebuilds'))).toEqual(['linux-x64']);
    expect(readdirSync(join(pkg, 'prebuilds/linux-x64'))).toEqual(['tunctl.glibc.node']);
    expect(existsSync(join(pkg, 'build')), 'no source build: the prebuild is what loads').toBe(false);
    expect(stubCalls(), 'no compiler or Python was even looked for').toBe('');
    expect(installSeconds).toBeLessThan(60);
  });

  it('a strict NodeNext TypeScript consumer type-checks against the shipped types', () => {
    const tsc = run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, env: cleanEnv(path) });
    expectOk(tsc, 'tsc');
    expect(existsSync(join(app, 'out/consumer.js'))).toBe(true);
  });

  it('runs: a Tuncer from the prebuild answers an ICMP echo', () => {
    const name = ifname('cs');
    const r = run(process.execPath, ['out/consumer.js', name], { cwd: app, env: cleanEnv(path), timeout: 30_000 });
    expectOk(r, 'the consumer');
    expect(JSON.parse(r.stdout.trim())).toEqual({ devname: name, from: '198.18.76.1', features: true, code: 'RangeError' });
  });

  it('`npx tunctl --help` works', () => {
    const r = run(join(work, 'bin/npx'), ['--offline', 'tunctl', '--help'], { cwd: app, env: cleanEnv(path) });
    expectOk(r, 'npx tunctl --help');
    expect(r.stdout).toMatch(/^Usage: tunctl <command>/);
    expect(r.stdout).toContain('--send-fd');
  });

  it('npm_config_build_from_source=true forces a source build (here it fails at once: no Python, no compiler)', () => {
    const forced = join(work, 'forced');
    mkdirSync(forced);
    writeFileSync(join(forced, 'package.json'), JSON.stringify({ name: 'forced', private: true }));
    const r = npmInstall(forced, [tarball], { npm_config_build_from_source: 'true' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('node-gyp');
    expect(stubCalls()).toMatch(/python3? /);
  });
});
