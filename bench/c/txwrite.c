/*
 * txwrite IFNAME COUNT PAYLOAD SRC DST SPORT DPORT: attach to a tun by name, build one IPv4/UDP
 * packet, print "ready", wait for a line, then write() it COUNT times; prints the time.
 */
#include "tunbench.h"
#include <arpa/inet.h>

int main(int argc, char **argv) {
  if (argc < 8) { fprintf(stderr, "usage: txwrite IFNAME COUNT PAYLOAD SRC DST SPORT DPORT\n"); return 1; }
  long count = atol(argv[2]);
  size_t payload = (size_t)atol(argv[3]);
  uint32_t src, dst;
  inet_pton(AF_INET, argv[4], &src);
  inet_pton(AF_INET, argv[5], &dst);
  static uint8_t pkt[65536];
  size_t len = build_udp4(pkt, src, dst, (uint16_t)atoi(argv[6]), (uint16_t)atoi(argv[7]), payload);
  int fd = tun_attach(argv[1], 0, 0);
  char line[256];
  ready_wait(line, sizeof line);
  long errors = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < count; i++) {
    if (write(fd, pkt, len) < 0) {
      if (errno == EINTR) { i--; continue; }
      errors++;
    }
  }
  uint64_t t1 = now_ns();
  printf("{\"packets\":%ld,\"errors\":%ld,\"ns\":%llu}\n", count - errors, errors, (unsigned long long)(t1 - t0));
  return 0;
}
