/**
 * The offload engine: GSO split of the super-packets a tun with `IFF_VNET_HDR` and TSO/USO
 * hands out, and GRO coalescing of MTU-size packets into super-packets for one write each.
 * Pure: no I/O. Exported from the package as the `offload` namespace.
 *
 * @example
 * ```ts
 * import { offload, tunctl } from 'tunctl';
 * const splitter = new offload.GsoSplitter();
 * const out = new offload.SegmentBuffer();
 * splitter.split(tunctl.read(fd)!, out); // out holds MTU-size IP packets
 * ```
 * @module
 */
export { GsoSplitter, type GsoSplitOptions } from './gsoSplitter.js';
export { GroCoalescer, GRO_MAX_SEGMENTS, type GroOptions } from './groCoalescer.js';
export { SegmentBuffer } from './segmentBuffer.js';
export { OffloadError, type OffloadErrorCode } from './offloadError.js';
export type { PacketSource, PacketRecords } from './packetSource.js';
