/**
 * Supervised interfaces: the adapter between the generic supervisor (`src/supervisor/`) and
 * the interface actor (`src/actors/`). {@link tuncerChild} makes a child spec that starts a
 * {@link Tuncer}; its handle, a {@link TuncerHandle}, survives the restarts of the interface.
 * The supervisor knows nothing of interfaces: the spec's `handle` factory is the only link.
 *
 * ```
 *  Supervisor ──instance$(id)──▶ Tuncer #1 ──crash──▶ (restart) ──▶ Tuncer #2 ...
 *       │                            │                                   │
 *       └──────── TuncerHandle ◀─────┴─ packets$ / events$ ──────────────┘
 *                 send / recv wait for the running instance
 * ```
 *
 * @example
 * ```ts
 * import { tuncerChild, type TuncerHandle } from './supervisedTuncer/index.js';
 * const sup = await Supervisor.start({ strategy: 'one_for_one', children: [tuncerChild({ name: 'tun0' })] });
 * const tun0: TuncerHandle = sup.child('tun0');
 * ```
 *
 * @module
 */
export * from './tuncerChild.js';
export * from './tuncerHandle.js';
