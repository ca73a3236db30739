/**
 * The low-level, synchronous TUN/TAP API (Linux): create a device, configure it by
 * ioctl and rtnetlink (addresses, routes, links, and the kernel's events), move packets
 * on its fd. Everything `tuncer` and the supervisor do is built
 * on these calls. Exported from the package as the `tunctl` namespace.
 *
 * @example
 * ```ts
 * import { tunctl } from 'tunctl';
 * const { fd, name } = tunctl.create('tun%d', { mode: 'tun' });
 * tunctl.up(name, '198.18.0.1', 24);
 * const packet = tunctl.read(fd); // null until the kernel sends something
 * tunctl.close(fd);
 * ```
 * @module
 */
export { create, features, decodeFeatures, iffFlags, type CreateOptions, type TunHandle, type TunMode, type TunFeatures } from './create.js';
export {
  persist, owner, group, carrier, offload, offloadMask, offloadSupport, info, attachQueue, detachQueue,
  txFilter, attachFilter, detachFilter, encodeBpf, setVnetHdrSize, vnetHdrSize,
  type OffloadFlags, type TunInfo, type BpfInstruction,
} from './fdControl.js';
export {
  probeOffload, probeGroWrite, setupOffload, type OffloadWant, type OffloadProbe, type GroWriteProbe, type OffloadSetting, type OffloadSetup,
} from './probeOffload.js';
export {
  up, down, link, dstaddr, broadcast, ipv4, netmask, setNetmask, mtu, setMtu,
  txqueuelen, setTxqueuelen, hwaddr, setHwaddr, ifindex, ifFlags, MTU_RANGE, IPV6_MTU_WARNING, type Ipv4Config,
} from './netif.js';
export { DEFAULT_PREFIX } from './defaultPrefix.js';
export { addAddress, removeAddress, addresses, IPV6_MIN_MTU, type AddAddressOptions, type AddressesOptions } from './addresses.js';
export { addRoute, removeRoute, routes, MAIN_TABLE, type RouteSpec, type RouteFilter } from './routes.js';
export { links, linkInfo, type NetnsOption } from './links.js';
export { watchLinks, type WatchLinksOptions, type LinkWatch } from './watchLinks.js';
export type { LinkInfo, TunLinkInfo } from '../netlink/linkMessage.js';
export type { InterfaceAddress } from '../netlink/addressMessage.js';
export type { RouteInfo, RouteNexthop } from '../netlink/routeMessage.js';
export type { NetlinkEvent, NetlinkEventKind, LinkEvent, AddressEvent, RouteEvent, OverrunEvent } from '../netlink/netlinkEvent.js';
export { read, readInto, readBatch, write, close, MAX_PACKET } from './packetIo.js';
export { BatchBuffer } from './batchBuffer.js';
export { sendFd, receiveFd, MAX_FD_META_BYTES, type FdMeta, type FdPassingOptions, type FdPeer, type ReceivedFd } from './fdPassing.js';
export { header, buildTunPi, type TunPi } from '../packet/tunPi.js';
export { parseVirtioNetHdr, buildVirtioNetHdr, type VirtioNetHdr } from '../packet/virtioNetHdr.js';
