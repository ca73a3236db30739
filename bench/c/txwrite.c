/*
 * txwrite IFNAME COUNT PAYLOAD SRC DST SPORT DPORT: attach to a tun by name, build one IPv4/UDP
 * packet, print "ready", wait for a line, then write() it COUNT times; prints the time.
 */
#include "tunbench.h"

int main(int argc, char **argv) {
  long count;
  static uint8_t pkt[65536];
  size_t len = tx_args(argc, argv, "txwrite", &count, pkt);
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
