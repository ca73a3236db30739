/*
 * tcpblast recv IP PORT        accept one connection, count bytes until EOF, print bytes and time
 * tcpblast send IP PORT SECS   connect, write 128 KiB chunks for SECS seconds, close
 * The receiver's figure (first byte to EOF) is the stream's throughput.
 */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: tcpblast recv|send IP PORT [SECS]\n"); return 1; }
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
  inet_pton(AF_INET, argv[2], &a.sin_addr);
  static uint8_t buf[128 * 1024];
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  if (strcmp(argv[1], "recv") == 0) {
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(s, 1) < 0) die("listen");
    printf("ready\n");
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    if (c < 0) die("accept");
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint64_t bytes = 0, t0 = 0;
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n < 0) { if (errno == EINTR) continue; die("read"); }
      if (n == 0) break;
      if (bytes == 0) t0 = now_ns();
      bytes += (uint64_t)n;
    }
    uint64_t ns = now_ns() - t0;
    printf("{\"bytes\":%llu,\"ns\":%llu,\"gbps\":%.3f}\n", (unsigned long long)bytes, (unsigned long long)ns,
           (double)bytes * 8 / (double)ns);
    return 0;
  }
  double secs = argc > 4 ? atof(argv[4]) : 3;
  struct timeval tv = { .tv_sec = 10 };
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  memset(buf, 0x5a, sizeof buf);
  uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
  while (now_ns() < end) {
    if (write(s, buf, sizeof buf) < 0) { if (errno == EINTR) continue; die("write"); }
  }
  close(s);
  return 0;
}
