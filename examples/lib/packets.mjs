// Packet helpers for the examples. They live in dist/packet/ and are not (yet) exported by
// the package index: take them from 'tunctl' when it exports them, else from the built files.
import * as tunctl from 'tunctl';

const load = async (name, file) => tunctl[name] ?? (await import(new URL(`../../dist/packet/${file}`, import.meta.url).href))[name];

/** @type {typeof import('../../dist/packet/describePacket.js').describePacket} */
export const describePacket = await load('describePacket', 'describePacket.js');
/** @type {typeof import('../../dist/packet/icmpEcho.js').buildIcmp4EchoRequest} */
export const buildIcmp4EchoRequest = await load('buildIcmp4EchoRequest', 'icmpEcho.js');
/** @type {typeof import('../../dist/packet/icmpEcho.js').buildIcmp6EchoRequest} */
export const buildIcmp6EchoRequest = await load('buildIcmp6EchoRequest', 'icmpEcho.js');
/** @type {typeof import('../../dist/packet/icmpEcho.js').parseIcmpEcho} */
export const parseIcmpEcho = await load('parseIcmpEcho', 'icmpEcho.js');
