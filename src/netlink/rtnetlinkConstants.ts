/**
 * NETLINK_ROUTE numbers from the kernel's uapi headers (`linux/netlink.h`,
 * `linux/rtnetlink.h`, `linux/if_link.h`, `linux/if_addr.h`). Unlike the ioctl request
 * numbers, which differ between architectures and come from the addon, these are the
 * same on every Linux, so they are written here and checked against the headers once
 * (the values were printed by a C program including those headers).
 *
 * @module
 */

/**
 * Message types, flags and the sizes of the fixed headers.
 *
 * @example
 * ```ts
 * const flags = NL.F_REQUEST | NL.F_DUMP;
 * ```
 */
export const NL = {
  /** sizeof(struct nlmsghdr) */
  HDRLEN: 16,
  MSG_NOOP: 1,
  MSG_ERROR: 2,
  MSG_DONE: 3,
  MSG_OVERRUN: 4,
  /** Types below this are netlink's own (NOOP, ERROR, DONE, OVERRUN). */
  MIN_TYPE: 0x10,
  F_REQUEST: 0x1,
  F_MULTI: 0x2,
  F_ACK: 0x4,
  F_DUMP_INTR: 0x10,
  F_DUMP: 0x300,
  F_REPLACE: 0x100,
  F_EXCL: 0x200,
  F_CREATE: 0x400,
  /** In an NLMSG_ERROR: only the header of the request is echoed (NETLINK_CAP_ACK). */
  F_CAPPED: 0x100,
  /** In an NLMSG_ERROR: extended-ack attributes follow (NETLINK_EXT_ACK). */
  F_ACK_TLVS: 0x200,
  /** NLMSGERR_ATTR_MSG: the kernel's text for the error. */
  ERR_ATTR_MSG: 1,
} as const;

/**
 * rtnetlink message types.
 *
 * @example
 * ```ts
 * if (msg.type === RTM.NEWADDR) console.log('an address was added');
 * ```
 */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/**
 * The name of an rtnetlink message type, for error messages (`netlink(RTM_NEWADDR)`).
 *
 * @example
 * ```ts
 * RTM_NAMES[RTM.NEWROUTE]; // 'RTM_NEWROUTE'
 * ```
 */
export const RTM_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(RTM).map(([name, value]) => [value, `RTM_${name}`]),
);

/**
 * Address families as they appear in rtnetlink headers.
 *
 * @example
 * ```ts
 * const family = version === 4 ? AF.INET : AF.INET6;
 * ```
 */
export const AF = { UNSPEC: 0, INET: 2, INET6: 10 } as const;

/**
 * Multicast groups to bind an event socket to (RTMGRP_* bits).
 *
 * @example
 * ```ts
 * const groups = RTMGRP.LINK | RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR;
 * ```
 */
export const RTMGRP = { LINK: 0x1, IPV4_IFADDR: 0x10, IPV4_ROUTE: 0x40, IPV6_IFADDR: 0x100, IPV6_ROUTE: 0x400 } as const;

/**
 * `struct ifinfomsg` (16 bytes) attributes, the `IFLA_LINKINFO` nest and the tun driver's
 * `IFLA_INFO_DATA` nest.
 *
 * @example
 * ```ts
 * builder.attrString(IFLA.IFNAME, 'tun0');
 * ```
 */
export const IFLA = {
  MSGLEN: 16,
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  TXQLEN: 13,
  OPERSTATE: 16,
  LINKINFO: 18,
  CARRIER: 33,
  INFO_KIND: 1,
  INFO_DATA: 2,
  TUN_OWNER: 1,
  TUN_GROUP: 2,
  TUN_TYPE: 3,
  TUN_PI: 4,
  TUN_VNET_HDR: 5,
  TUN_PERSIST: 6,
  TUN_MULTI_QUEUE: 7,
  TUN_NUM_QUEUES: 8,
  TUN_NUM_DISABLED_QUEUES: 9,
} as const;

/**
 * `struct ifaddrmsg` (8 bytes) attributes and address flags.
 *
 * @example
 * ```ts
 * const tentative = (flags & IFA.F_TENTATIVE) !== 0;
 * ```
 */
export const IFA = {
  MSGLEN: 8,
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  FLAGS: 8,
  F_SECONDARY: 0x1,
  F_NODAD: 0x2,
  F_DADFAILED: 0x8,
  F_DEPRECATED: 0x20,
  F_TENTATIVE: 0x40,
  F_PERMANENT: 0x80,
} as const;

/**
 * `struct rtmsg` (12 bytes) attributes, route types, protocols, scopes and tables.
 *
 * @example
 * ```ts
 * const main = RTA.TABLE_MAIN; // 254
 * ```
 */
export const RTA = {
  MSGLEN: 12,
  DST: 1,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  MULTIPATH: 9,
  TABLE: 15,
  /** sizeof(struct rtnexthop) */
  NH_LEN: 8,
  TYPE_UNICAST: 1,
  PROT_BOOT: 3,
  SCOPE_UNIVERSE: 0,
  SCOPE_LINK: 253,
  SCOPE_NOWHERE: 255,
  TABLE_COMPAT: 252,
  TABLE_MAIN: 254,
  TABLE_LOCAL: 255,
} as const;

/**
 * Interface flags (`ifi_flags`) the link records decode.
 *
 * @example
 * ```ts
 * const up = (flags & IFF.UP) !== 0;
 * ```
 */
export const IFF = { UP: 0x1, RUNNING: 0x40, LOWER_UP: 0x10000 } as const;

/**
 * Names for numbers, as `ip` prints them: route types, protocols, scopes, operstates.
 *
 * @example
 * ```ts
 * nameOf(SCOPE_NAMES, 253); // 'link'
 * nameOf(SCOPE_NAMES, 7);   // '7'
 * ```
 */
export function nameOf(table: Readonly<Record<number, string>>, value: number): string {
  return table[value] ?? String(value);
}

/**
 * Route types (`rtm_type`).
 *
 * @example
 * ```ts
 * nameOf(ROUTE_TYPE_NAMES, 2); // 'local'
 * ```
 */
export const ROUTE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'unspec', 1: 'unicast', 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw', 10: 'nat', 11: 'xresolve',
};
/**
 * Route protocols (`rtm_protocol`), as `/etc/iproute2/rt_protos` names them.
 *
 * @example
 * ```ts
 * nameOf(PROTOCOL_NAMES, 3); // 'boot'
 * ```
 */
export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 9: 'ra', 16: 'dhcp',
};
/**
 * Scopes (`rtm_scope`, `ifa_scope`).
 *
 * @example
 * ```ts
 * nameOf(SCOPE_NAMES, 253); // 'link'
 * ```
 */
export const SCOPE_NAMES: Readonly<Record<number, string>> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
/**
 * Operational states (`IFLA_OPERSTATE`, RFC 2863).
 *
 * @example
 * ```ts
 * nameOf(OPERSTATE_NAMES, 6); // 'up'
 * ```
 */
export const OPERSTATE_NAMES: Readonly<Record<number, string>> = {
  0: 'unknown', 1: 'notpresent', 2: 'down', 3: 'lowerlayerdown', 4: 'testing', 5: 'dormant', 6: 'up',
};
