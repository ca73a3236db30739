// A worker terminated at any point of its start-up, the addon's load included, must never
// take the process down. (node-addon-api rethrew a failed napi_throw as a C++ exception
// while the environment was being torn down, and the process aborted in std::terminate;
// NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS in binding.gyp stops that.)
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

it('terminating interface workers all through their boot never aborts the process', () => {
  const worker = new URL('../../dist/actors/tunWorker.js', import.meta.url).href;
  const script = `
    const { Worker } = require('node:worker_threads');
    (async () => {
      for (let i = 0; i < 150; i++) {
        const w = new Worker(new URL(${JSON.stringify(worker)}), { stdout: false, stderr: false });
        w.on('error', () => {});
        await new Promise((r) => setTimeout(r, (i * 7) % 90));
        await w.terminate();
      }
      console.log('survived');
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).not.toContain('terminate called');
  expect(r.signal).toBeNull();
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe('survived');
}, 150_000);
