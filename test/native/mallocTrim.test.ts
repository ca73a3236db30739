/**
 * mallocTrim: memory a worker thread freed as it exited goes back to the system (glibc keeps
 * it in the thread's arena otherwise), and the trim runs off the JS thread.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { loadNative } from '../../src/native/binding.js';

const rssMb = (): number => process.memoryUsage.rss() / 2 ** 20;

describe('mallocTrim', () => {
  it('gives back what an exited thread freed, and answers with a Promise', async () => {
    const native = loadNative();
    await native.mallocTrim(); // start from a trimmed heap
    // 100 MB in 1 kB blocks, malloc'd in the worker's own arena, freed when its isolate goes.
    await new Promise((resolve, reject) =>
      new Worker(`const a = []; for (let i = 0; i < 100000; i++) a.push(Buffer.allocUnsafeSlow(1000).fill(1));`, { eval: true })
        .on('error', reject)
        .on('exit', resolve),
    );
    const before = rssMb();
    const pending = native.mallocTrim();
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toBe(true);
    expect(before - rssMb()).toBeGreaterThan(40);
  });
});
