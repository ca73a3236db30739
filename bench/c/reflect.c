/*
 * reflect IFNAME: attach to a tun, print "ready", then for each IPv4 packet read swap source and
 * destination addresses (and UDP/TCP ports) and write it back. Swapping keeps every checksum
 * valid (the one's-complement sums are unchanged). Runs until killed.
 */
#include "tunbench.h"

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: reflect IFNAME\n"); return 1; }
  int fd = tun_attach(argv[1], 0, 0);
  printf("ready\n");
  fflush(stdout);
  static uint8_t p[65536];
  for (;;) {
    ssize_t n = read(fd, p, sizeof p);
    if (n < 0) { if (errno == EINTR) continue; die("read"); }
    if (n < 20 || (p[0] >> 4) != 4) continue;
    uint8_t t[4];
    memcpy(t, p + 12, 4); memcpy(p + 12, p + 16, 4); memcpy(p + 16, t, 4);
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if ((p[9] == 17 || p[9] == 6) && (size_t)n >= ihl + 4) {
      uint8_t *l4 = p + ihl;
      memcpy(t, l4, 2); memcpy(l4, l4 + 2, 2); memcpy(l4 + 2, t, 2);
    }
    if (write(fd, p, (size_t)n) < 0 && errno != EINTR) die("write");
  }
}
