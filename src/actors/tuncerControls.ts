/**
 * The configuration calls of an interface (address, link, MTU, MAC, owner, offload, ...),
 * each checked here and carried out by the worker on the device's fd or name.
 *
 * @module
 */
import type { TunEvent } from './tunEvent.js';
import type { FdOp, NameOp, SpecialOp } from './messages.js';
import type { OffloadFlags, TunInfo, Ipv4Config } from '../tunctl/index.js';
import { offloadMask } from '../tunctl/fdControl.js';
import { assertBool, assertInt } from '../tunctl/validate.js';
import { MTU_RANGE } from '../tunctl/netif.js';
import { parseIp, checkPrefix } from '../packet/ipAddress.js';
import { parseMac } from '../packet/mac.js';

/**
 * What every interface can be asked to do to its device; {@link Tuncer} carries the calls
 * to its worker. Arguments are validated before anything crosses the thread.
 *
 * @example
 * ```ts
 * await tun.up('198.18.0.1', 24);
 * await tun.setMtu(1400);
 * ```
 */
export abstract class TuncerControls {
  /** Carry out `op` in the worker; rejects once the interface has ended. */
  protected abstract control<T>(op: FdOp | NameOp | SpecialOp, args: unknown[]): Promise<T>;
  /** Report an event on `events$`. */
  protected abstract emit(e: TunEvent): void;

  /**
   * Give the interface an address and bring it up (default prefix /24 or /64).
   *
   * @example
   * ```ts
   * await tun.up('198.18.0.1', 24);
   * ```
   */
  async up(addr: string, prefix?: number): Promise<void> {
    const { family } = parseIp(addr);
    if (prefix !== undefined) checkPrefix(family, prefix);
    await this.control('up', prefix === undefined ? [addr] : [addr, prefix]);
    this.emit({ type: 'up', address: addr, ...(prefix !== undefined ? { prefix } : {}) });
  }

  /** Take the interface down. @example `await tun.down();` */
  async down(): Promise<void> {
    await this.control('down', []);
    this.emit({ type: 'down' });
  }

  /** Keep the device after the interface ends (TUNSETPERSIST). @example `await tun.persist(true);` */
  async persist(on: boolean): Promise<void> {
    assertBool(on, 'persist');
    return this.control('persist', [on]);
  }

  /** Let `uid` attach without privileges (TUNSETOWNER). @example `await tun.owner(1000);` */
  async owner(uid: number): Promise<void> {
    assertInt(uid, 'uid', 0, 0xfffffffe);
    return this.control('owner', [uid]);
  }

  /** Let group `gid` attach without privileges (TUNSETGROUP). @example `await tun.group(1000);` */
  async group(gid: number): Promise<void> {
    assertInt(gid, 'gid', 0, 0xfffffffe);
    return this.control('group', [gid]);
  }

  /** The MTU. @example `const n = await tun.mtu();` */
  async mtu(): Promise<number> {
    return this.control('mtu', []);
  }

  /** Set the MTU (68..65535). @example `await tun.setMtu(1400);` */
  async setMtu(n: number): Promise<void> {
    assertInt(n, 'mtu', MTU_RANGE.min, MTU_RANGE.max);
    return this.control('setMtu', [n]);
  }

  /** Set the IPv4 point-to-point peer. @example `await tun.dstaddr('198.18.0.2');` */
  async dstaddr(addr: string): Promise<void> {
    parseIp(addr);
    return this.control('dstaddr', [addr]);
  }

  /** Set the IPv4 broadcast address. @example `await tun.broadcast('198.18.0.255');` */
  async broadcast(addr: string): Promise<void> {
    parseIp(addr);
    return this.control('broadcast', [addr]);
  }

  /** The MAC address (taps). @example `const mac = await tun.hwaddr();` */
  async hwaddr(): Promise<string> {
    return this.control('hwaddr', []);
  }

  /** Set the MAC address of a tap. @example `await tun.setHwaddr('02:00:00:00:00:01');` */
  async setHwaddr(mac: string): Promise<void> {
    parseMac(mac);
    return this.control('setHwaddr', [mac]);
  }

  /** Turn the carrier on or off. @example `await tun.carrier(false);` */
  async carrier(on: boolean): Promise<void> {
    assertBool(on, 'carrier');
    return this.control('carrier', [on]);
  }

  /** Set offloads (TUNSETOFFLOAD); see `tunctl.offload`. @example `await tun.offload({ csum: true, tso4: true });` */
  async offload(flags: OffloadFlags | number): Promise<number> {
    const mask = typeof flags === 'number' ? flags : offloadMask(flags);
    if (!Number.isInteger(mask) || mask < 0 || mask > 0xffff) throw new RangeError(`offload mask must be an integer from 0 to 65535, got ${mask}`);
    return this.control('offload', [mask]);
  }

  /** TUNGETIFF: name and flags. @example `const { persist } = await tun.info();` */
  async info(): Promise<TunInfo> {
    return this.control('info', []);
  }

  /** Primary IPv4 address, prefix, peer and broadcast. @example `const { address } = await tun.ipv4();` */
  ipv4(): Promise<Ipv4Config> {
    return this.control('ipv4', []);
  }
}
