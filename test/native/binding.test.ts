/**
 * Packaging facts the loader relies on: the Node-API version is pinned in one number
 * (binding.gyp's define and package.json's `binary.napi_versions` agree, and this Node
 * offers it), and inside the repository the addon comes from the source build.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addonPath } from '../../src/native/binding.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { binary?: { napi_versions?: number[] }; scripts: Record<string, string> };
const gyp = readFileSync(`${root}binding.gyp`, 'utf8');

describe('native addon packaging', () => {
  it('pins one Node-API version, the same in binding.gyp and package.json, and this Node has it', () => {
    const defines = [...gyp.matchAll(/"NAPI_VERSION=(\d+)"/g)].map((m) => Number(m[1]));
    expect(defines).toHaveLength(1);
    expect(pkg.binary?.napi_versions).toEqual(defines);
    expect(Number(process.versions.napi)).toBeGreaterThanOrEqual(defines[0]!);
  });

  it('installs with node-gyp-build and packs a stripped, libc-tagged Node-API prebuild', () => {
    expect(pkg.scripts.install).toBe('node-gyp-build');
    expect(pkg.scripts.prepack).toContain('build:prebuilds');
    expect(pkg.scripts['build:prebuilds']).toMatch(/^prebuildify --napi --strip --tag-libc$/);
  });

  it('loads the source build (build/Release) inside the repository, not a prebuild', () => {
    expect(addonPath()).toBe(`${root}build/Release/tunctl.node`);
  });
});
