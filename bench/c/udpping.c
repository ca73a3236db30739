/*
 * udpping SRC DST PORT COUNT PAYLOAD WARMUP [PAUSE_US]: send one datagram, wait for the echo (1 s
 * timeout), COUNT times after WARMUP unmeasured ones; prints round-trip p50/p99/mean/min in
 * microseconds. With PAUSE_US it sleeps that long after each echo, so that every round trip
 * finds the reflector idle (the default, 0, sends back to back).
 */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: udpping SRC DST PORT COUNT PAYLOAD WARMUP [PAUSE_US]\n"); return 1; }
  long pause_us = argc > 7 ? atol(argv[7]) : 0;
  struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
  inet_pton(AF_INET, argv[1], &src.sin_addr);
  inet_pton(AF_INET, argv[2], &dst.sin_addr);
  long count = atol(argv[4]), warm = atol(argv[6]);
  size_t payload = (size_t)atol(argv[5]);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  if (bind(s, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
  if (connect(s, (struct sockaddr *)&dst, sizeof dst) < 0) die("connect");
  struct timeval tv = { .tv_sec = 1 };
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static uint8_t out[65536], in[65536];
  uint64_t *rtt = calloc((size_t)count, sizeof *rtt);
  long got = 0, lost = 0;
  for (long i = 0; i < count + warm; i++) {
    uint32_t seq = (uint32_t)i;
    memcpy(out, &seq, 4);
    uint64_t t0 = now_ns();
    if (send(s, out, payload, 0) < 0) die("send");
    for (;;) {
      ssize_t n = recv(s, in, sizeof in, 0);
      if (n < 0) { if (errno == EINTR) continue; lost++; break; }
      uint32_t r;
      memcpy(&r, in, 4);
      if (r != seq) continue; /* a late echo of a lost one */
      if (i >= warm) rtt[got++] = now_ns() - t0;
      break;
    }
    if (lost > 20) break;
    if (pause_us > 0) {
      struct timespec ts = { .tv_sec = pause_us / 1000000, .tv_nsec = (pause_us % 1000000) * 1000 };
      while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
    }
  }
  qsort(rtt, (size_t)got, sizeof *rtt, cmp);
  double sum = 0;
  for (long i = 0; i < got; i++) sum += (double)rtt[i];
  if (got == 0) { printf("{\"n\":0,\"lost\":%ld}\n", lost); return 0; }
  printf("{\"n\":%ld,\"lost\":%ld,\"p50\":%.2f,\"p99\":%.2f,\"mean\":%.2f,\"min\":%.2f}\n", got, lost,
         rtt[got / 2] / 1e3, rtt[(long)(got * 0.99)] / 1e3, sum / got / 1e3, rtt[0] / 1e3);
  return 0;
}
