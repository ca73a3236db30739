/*
 * rxdrain IFNAME EXPECT MODE [WARM]: attach to a persistent tun by name, print "ready", wait for a line
 * on stdin, then read. MODE "drain": non-blocking read() until EXPECT packets or EAGAIN, timed
 * from the first call. MODE "flood": blocking reads (poll) while a sender runs, until EXPECT
 * packets or 1 s without any, timed from the first packet to the last. With WARM, a first
 * line makes it drain WARM packets untimed (printing {"warm":n}) before waiting for "go".
 */
#include "tunbench.h"
#include <poll.h>

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: rxdrain IFNAME EXPECT drain|flood\n"); return 1; }
  long expect = atol(argv[2]);
  int flood = strcmp(argv[3], "flood") == 0;
  int fd = tun_attach(argv[1], 0, 1);
  char line[256];
  static uint8_t buf[65536 + 16];
  ready_wait(line, sizeof line);
  warm_then_wait(argc, argv, fd, buf, sizeof buf, line, sizeof line);
  long count = 0;
  uint64_t bytes = 0, t0 = now_ns(), first = 0, last = 0;
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  while (count < expect) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) die("read");
      if (!flood) break;
      int r = poll(&pfd, 1, count == 0 ? 10000 : 1000);
      if (r == 0) break;
      continue;
    }
    if (count == 0) first = now_ns();
    count++;
    bytes += (uint64_t)n;
  }
  last = now_ns();
  uint64_t ns = flood ? last - first : last - t0;
  printf("{\"packets\":%ld,\"bytes\":%llu,\"ns\":%llu}\n", count, (unsigned long long)bytes, (unsigned long long)ns);
  return 0;
}
