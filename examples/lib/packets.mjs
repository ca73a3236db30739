// Packet helpers for the examples, from the package's `packet` namespace.
import { packet } from 'tunctl';

export const { describePacket, buildIcmp4EchoRequest, buildIcmp6EchoRequest, parseIcmpEcho } = packet;
