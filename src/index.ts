/**
 * tunctl: Linux TUN/TAP interfaces for Node.js.
 *
 * - {@link tunctl}: the low-level synchronous API (create, ioctl and rtnetlink configuration, read/write).
 * - {@link linkEvents}: the kernel's link, address and route events as an Observable.
 * - {@link Tuncer}: one interface as an actor whose fd lives in a worker thread.
 * - {@link Supervisor}: OTP supervision; {@link tuncerChild} and {@link TuncerHandle} for interfaces.
 * - `packet`: pure helpers (tun_pi, virtio_net_hdr, addresses, ICMP/UDP builders, descriptions).
 * - `offload`: the GSO split / GRO coalesce engine for tuns with `IFF_VNET_HDR`.
 * - `TunError`: the error every failed system call raises.
 *
 * @example
 * ```ts
 * import { tunctl, TunError } from 'tunctl';
 * ```
 * @module
 */
export * as tunctl from './tunctl/index.js';
export * as packet from './packet/index.js';
export * as offload from './offload/index.js';
export { TunError, isRetryable, isGone } from './native/tunError.js';
export { linkEvents } from './netlink/linkEvents.js';
export { NetlinkParseError } from './netlink/netlinkMessage.js';
export { UdpSocket, type UdpSocketOptions, type UdpMessage } from './udp/udpSocket.js';
export { Tuncer, TuncerClosedError, type TuncerOptions, type TunEvent, type TuncerState, type TunStats, type TuncerStats, type QueueStats } from './actors/tuncer.js';
export { MAX_QUEUES } from './actors/tuncerOptions.js';
export { flowHash, flowLayout, type FlowLayout } from './actors/flowHash.js';
export type { TuncerExitReason } from './actors/tuncerMachine.js';
export type { ActiveMode } from './actors/tuncerOptions.js';
export { PacketBatch } from './actors/packetBatch.js';
export { configureWorkerPool, warmWorkerPool, type WorkerPoolOptions } from './actors/workerPool.js';
export type { AddressSpec } from './actors/messages.js';
export {
  Supervisor, SupervisorError,
  type SupervisorOptions, type SupervisorEvent, type ChildSpec, type ChildHost, type Child, type ExitReason, type Strategy,
  type RestartType, type ShutdownSpec, type BackoffOptions,
} from './supervisor/index.js';
export { tuncerChild, TuncerHandle, type TuncerChildOptions, type TuncerHandleEvent } from './supervisedTuncer/index.js';
