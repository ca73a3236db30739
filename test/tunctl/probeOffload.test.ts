import { describe, expect, it } from 'vitest';
import { checkOffloadSetting } from '../../src/tunctl/probeOffload.js';
import { resolveTuncerOptions } from '../../src/actors/tuncerOptions.js';

describe('the offload setting', () => {
  it("takes 'auto', false and { tcp?, udp? }", () => {
    for (const ok of ['auto', false, {}, { tcp: true }, { udp: false }, { tcp: false, udp: true }] as const) {
      expect(() => checkOffloadSetting(ok, true)).not.toThrow();
    }
    expect(() => checkOffloadSetting('auto', false)).not.toThrow(); // 'auto' without a vnet header: nothing to set
    expect(() => checkOffloadSetting(false, false)).not.toThrow();
  });

  it('refuses anything else with a TypeError or RangeError that says what is accepted', () => {
    expect(() => checkOffloadSetting(true, true)).toThrow(TypeError);
    expect(() => checkOffloadSetting('on', true)).toThrow(/'auto', false or \{ tcp\?, udp\? \}/);
    expect(() => checkOffloadSetting(null, true)).toThrow(TypeError);
    expect(() => checkOffloadSetting({ tso: true }, true)).toThrow(/unknown offload option 'tso'/);
    expect(() => checkOffloadSetting({ tcp: 1 }, true)).toThrow(TypeError);
    expect(() => checkOffloadSetting({ tcp: true }, false)).toThrow(RangeError);
    expect(() => checkOffloadSetting({ tcp: false, udp: false }, false)).not.toThrow();
  });

  it('is a Tuncer option, checked with the others before any thread starts', () => {
    expect(resolveTuncerOptions({ mode: 'tun', vnetHdr: true, offload: 'auto' }).offload).toBe('auto');
    expect(resolveTuncerOptions({ mode: 'tun' }).offload).toBeUndefined();
    expect(() => resolveTuncerOptions({ mode: 'tun', offload: { udp: true } })).toThrow(/needs vnetHdr: true/);
    expect(() => resolveTuncerOptions({ mode: 'tun', offload: 'yes' as 'auto' })).toThrow(TypeError);
  });
});
