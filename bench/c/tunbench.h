/* Shared helpers of the C reference programs of the tunctl benchmark. */
#ifndef TUNBENCH_H
#define TUNBENCH_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(2);
}

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Attach to (or create) a tun by name: IFF_TUN | IFF_NO_PI [| IFF_VNET_HDR]. */
static inline int tun_attach(const char *name, int vnet, int nonblock) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
  if (fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  return fd;
}

/* Tell the harness we are attached, then wait for its "go" line (its content is returned). */
static inline void ready_wait(char *line, size_t size) {
  printf("ready\n");
  fflush(stdout);
  if (!fgets(line, (int)size, stdin)) exit(3);
}

/* The readers' optional warm-up (argv[4]): read up to WARM packets untimed into buf, print
 * {"warm":n}, then wait for the line that says go. */
static inline void warm_then_wait(int argc, char **argv, int fd, uint8_t *buf, size_t size, char *line, size_t lineSize) {
  if (argc <= 4) return;
  long warm = atol(argv[4]), w = 0;
  while (w < warm && read(fd, buf, size) >= 0) w++;
  printf("{\"warm\":%ld}\n", w);
  fflush(stdout);
  if (!fgets(line, (int)lineSize, stdin)) exit(3);
}

static inline uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  return sum;
}

/* The ring programs (rxdrain2t, txwrite2t): a futex call on an atomic word, and tunctl's
 * record padding. */
static inline void futex(_Atomic int *a, int op, int v) { syscall(SYS_futex, a, op, v, NULL, NULL, 0); }
static inline int align4(int n) { return (n + 3) & ~3; }

/* An IPv4/UDP packet with correct checksums; returns its length. */
static inline size_t build_udp4(uint8_t *pkt, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                size_t payload) {
  size_t udplen = 8 + payload, total = 20 + udplen;
  memset(pkt, 0, total);
  pkt[0] = 0x45;
  pkt[2] = (uint8_t)(total >> 8); pkt[3] = (uint8_t)total;
  pkt[6] = 0x40; /* DF */
  pkt[8] = 64; pkt[9] = 17;
  memcpy(pkt + 12, &src, 4);
  memcpy(pkt + 16, &dst, 4);
  uint16_t ipc = csum_fold(csum_add(0, pkt, 20));
  pkt[10] = (uint8_t)(ipc >> 8); pkt[11] = (uint8_t)ipc;
  uint8_t *u = pkt + 20;
  u[0] = (uint8_t)(sport >> 8); u[1] = (uint8_t)sport;
  u[2] = (uint8_t)(dport >> 8); u[3] = (uint8_t)dport;
  u[4] = (uint8_t)(udplen >> 8); u[5] = (uint8_t)udplen;
  for (size_t i = 0; i < payload; i++) u[8 + i] = (uint8_t)i;
  uint32_t s = csum_add(0, pkt + 12, 8) + 17 + (uint32_t)udplen;
  uint16_t uc = csum_fold(csum_add(s, u, udplen));
  if (uc == 0) uc = 0xffff;
  u[6] = (uint8_t)(uc >> 8); u[7] = (uint8_t)uc;
  return total;
}

/* The tx writers' arguments, IFNAME COUNT PAYLOAD SRC DST SPORT DPORT: the packet built into
 * pkt (its length returned) and COUNT; exits with the usage line if any is missing. */
static inline size_t tx_args(int argc, char **argv, const char *prog, long *count, uint8_t *pkt) {
  if (argc < 8) { fprintf(stderr, "usage: %s IFNAME COUNT PAYLOAD SRC DST SPORT DPORT\n", prog); exit(1); }
  *count = atol(argv[2]);
  uint32_t src, dst;
  if (inet_pton(AF_INET, argv[4], &src) != 1 || inet_pton(AF_INET, argv[5], &dst) != 1) { fprintf(stderr, "%s: bad address\n", prog); exit(1); }
  return build_udp4(pkt, src, dst, (uint16_t)atoi(argv[6]), (uint16_t)atoi(argv[7]), (size_t)atol(argv[3]));
}
#endif
