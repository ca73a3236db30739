/*
 * The tunnel scenario's C reference for the UDP side alone, with and without the kernel's UDP
 * segmentation offloads, over the same veth as the tunnel:
 *
 *   udpgso recv IP PORT [gro]            bind; print "ready"; count what arrives until 1 s of
 *                                        silence; print {"bytes","recvCalls","gbps"}
 *   udpgso send FROM TO PORT SECS [gso]  send 1420-byte datagrams from a connected socket for
 *                                        SECS s; print {"sendCalls","fails","len"}
 *
 * Without gso/gro: one send(2) and one recv(2) per 1420-byte datagram, as node:dgram does.
 * With them: UDP_SEGMENT 1420 on the sender (each send(2) hands the kernel 46 x 1420 bytes,
 * which it sends as 46 datagrams of 1420 bytes: what the veth carries is MTU-size datagrams
 * either way), UDP_GRO on the receiver (one recv(2) returns consecutive datagrams of a flow
 * together), as wireguard-go does. What a tunnel could reach if its UDP socket I/O went this
 * way; node:dgram offers neither option.
 */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "../../native/udp_gso.h"

enum { SEG = 1420, SEGS = 46 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  static uint8_t buf[65536];
  if (argc >= 4 && strcmp(argv[1], "recv") == 0) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &a.sin_addr);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    int rb = 4 << 20, one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) < 0) die("SO_RCVBUFFORCE");
    if (argc > 4 && setsockopt(s, IPPROTO_UDP, UDP_GRO, &one, sizeof one) < 0) die("UDP_GRO");
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    struct timeval tv = { 1, 0 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    printf("ready\n");
    fflush(stdout);
    long long bytes = 0, calls = 0;
    double t0 = 0, t1 = 0;
    for (;;) {
      ssize_t n = recv(s, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (calls > 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) break; // 1 s of silence after traffic
        continue;
      }
      t1 = now();
      if (calls++ == 0) t0 = t1;
      bytes += n;
    }
    printf("{\"bytes\":%lld,\"recvCalls\":%lld,\"gbps\":%.4f}\n", bytes, calls, t1 > t0 ? (double)bytes * 8 / (t1 - t0) / 1e9 : 0.0);
    return 0;
  }
  if (argc >= 6 && strcmp(argv[1], "send") == 0) {
    struct sockaddr_in f = { .sin_family = AF_INET };
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4])) };
    inet_pton(AF_INET, argv[2], &f.sin_addr);
    inet_pton(AF_INET, argv[3], &a.sin_addr);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    if (bind(s, (struct sockaddr *)&f, sizeof f) < 0) die("bind");
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    int gso = argc > 6, seg = SEG;
    if (gso && setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg) < 0) die("UDP_SEGMENT");
    size_t len = gso ? (size_t)SEG * SEGS : SEG;
    memset(buf, 0x5a, sizeof buf);
    double end = now() + atof(argv[5]);
    long long calls = 0, fails = 0;
    while (now() < end) {
      for (int i = 0; i < 64; i++) {
        if (send(s, buf, len, 0) < 0) fails++;
        else calls++;
      }
    }
    printf("{\"sendCalls\":%lld,\"fails\":%lld,\"len\":%zu}\n", calls, fails, len);
    return 0;
  }
  fprintf(stderr, "usage: udpgso recv IP PORT [gro] | udpgso send FROM TO PORT SECS [gso]\n");
  return 1;
}
