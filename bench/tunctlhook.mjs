// `node --import bench/tunctlhook.mjs examples/...`: run an example as it is, but with its
// `import ... from 'tunctl'` resolved to the library in $TUNCTL_BENCH_DIST (the snapshot that
// run.mjs compiled for this bench run) instead of the package's own dist/. Used by vpwn.mjs.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Loaded by --import on the main thread: register this same file as the resolve hook (it is
// loaded again on the hooks thread, where isMainThread is false).
if (isMainThread && process.env.TUNCTL_BENCH_DIST) register(import.meta.url, { data: process.env.TUNCTL_BENCH_DIST });

let index;
export function initialize(dist) {
  index = pathToFileURL(join(dist, 'index.js')).href;
}

export async function resolve(specifier, context, next) {
  if (index && specifier === 'tunctl') return { url: index, shortCircuit: true };
  return next(specifier, context);
}
