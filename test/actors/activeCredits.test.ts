import { describe, expect, it } from 'vitest';
import { ActiveCredits, type ModeEvent } from '../../src/actors/activeCredits.js';

function setup() {
  const events: (ModeEvent | null)[] = [];
  return { am: new ActiveCredits((e) => events.push(e)), events };
}

describe('ActiveCredits', () => {
  it('counts N up and down, and turns passive with an event at 0', () => {
    const { am, events } = setup();
    expect(am.change(3)).toBe(3);
    expect(am.change(2)).toBe(5);
    expect(am.change(-5)).toBe(false);
    expect(events).toEqual([{ type: 'active', mode: 3 }, { type: 'active', mode: 5 }, { type: 'passive' }]);
    expect(am.mode).toBe(false);
  });

  it('a count that adds up to 0 while passive says nothing; a non-positive one says passive', () => {
    const { am, events } = setup();
    am.change(0);
    expect(events).toEqual([{ type: 'passive' }]);
    am.change(true);
    am.change(5); // a count on top of `true` starts from 0
    expect(am.mode).toBe(5);
    am.set(false);
    events.length = 0;
    am.change(-3);
    expect(events).toEqual([{ type: 'passive' }]);
  });

  it('runs out: passive with an event for N, silently for once; every change moves the version', () => {
    const { am, events } = setup();
    am.change('once');
    const v = am.version;
    am.credits -= 1;
    am.exhausted();
    expect(am.version).toBe(v + 1);
    am.change(1);
    am.credits -= 1;
    am.exhausted();
    expect(events).toEqual([{ type: 'active', mode: 'once' }, null, { type: 'active', mode: 1 }, { type: 'passive' }]);
    expect(am.change(40000)).toBe(32767); // the cap
  });
});
