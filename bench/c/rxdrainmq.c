/*
 * rxdrainmq IFNAME EXPECT QUEUES [WARM]: attach QUEUES queues of a persistent multi-queue tun
 * (IFF_MULTI_QUEUE), print "ready", wait for a line on stdin, then drain: one thread per queue,
 * each a non-blocking read() loop until EAGAIN (or all EXPECT packets are read), timed from the
 * start of the threads until the last ends. (EXPECT is for the line protocol; the queues are read empty.) With WARM, a first line drains up to WARM packets
 * untimed (printing {"warm":n}) before waiting for "go". The C reference of bench/mq.mjs.
 */
#include "tunbench.h"
#include <pthread.h>

enum { MAXQ = 64 };
static int fds[MAXQ];
/* One cache line per thread: the threads share nothing while they read. */
static struct { long packets; uint64_t bytes; char pad[48]; } __attribute__((aligned(64))) per[MAXQ];

/* Drain one queue until it is empty (EAGAIN). */
static void *drain(void *arg) {
  long q = (long)arg, packets = 0;
  uint64_t bytes = 0;
  static __thread uint8_t buf[65536 + 16];
  for (;;) {
    ssize_t n = read(fds[q], buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) die("read");
      break;
    }
    packets++;
    bytes += (uint64_t)n;
  }
  per[q].packets = packets;
  per[q].bytes = bytes;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: rxdrainmq IFNAME EXPECT QUEUES [WARM]\n"); return 1; }
  (void)atol(argv[2]);
  int queues = atoi(argv[3]);
  if (queues < 1 || queues > MAXQ) { fprintf(stderr, "QUEUES is 1..%d\n", MAXQ); return 1; }
  for (int q = 0; q < queues; q++) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) die("open /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
    fds[q] = fd;
  }
  char line[256];
  static uint8_t buf[65536 + 16];
  ready_wait(line, sizeof line);
  if (argc > 4) {
    long warm = atol(argv[4]), w = 0;
    for (int q = 0; q < queues; q++)
      while (w < warm && read(fds[q], buf, sizeof buf) >= 0) w++;
    printf("{\"warm\":%ld}\n", w);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return 3;
  }
  pthread_t th[MAXQ];
  uint64_t t0 = now_ns();
  for (long q = 0; q < queues; q++)
    if (pthread_create(&th[q], NULL, drain, (void *)q) != 0) die("pthread_create");
  for (int q = 0; q < queues; q++) pthread_join(th[q], NULL);
  uint64_t ns = now_ns() - t0;
  long packets = 0;
  uint64_t bytes = 0;
  for (int q = 0; q < queues; q++) {
    packets += per[q].packets;
    bytes += per[q].bytes;
  }
  printf("{\"packets\":%ld,\"bytes\":%llu,\"ns\":%llu,\"perQueue\":[", packets, (unsigned long long)bytes, (unsigned long long)ns);
  for (int q = 0; q < queues; q++) printf("%s%ld", q ? "," : "", per[q].packets);
  printf("]}\n");
  return 0;
}
