/* udpflood DST_IP PORT PAYLOAD COUNT: send COUNT UDP datagrams with sendmmsg (batches of 64). */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: udpflood DST_IP PORT PAYLOAD COUNT\n"); return 1; }
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
  if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 1; }
  size_t payload = (size_t)atol(argv[3]);
  long count = atol(argv[4]);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  int big = 64 << 20;
  setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  if (connect(s, (struct sockaddr *)&dst, sizeof dst) < 0) die("connect");
  static uint8_t buf[65536];
  memset(buf, 0xab, sizeof buf);
  enum { B = 64 };
  struct mmsghdr msgs[B];
  struct iovec iov[B];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < B; i++) {
    iov[i].iov_base = buf; iov[i].iov_len = payload;
    msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long sent = 0, errors = 0;
  uint64_t t0 = now_ns();
  while (sent < count) {
    int want = count - sent < B ? (int)(count - sent) : B;
    int n = sendmmsg(s, msgs, (unsigned)want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) { errors++; if (errors > 1000000) break; continue; }
      die("sendmmsg");
    }
    sent += n;
  }
  uint64_t t1 = now_ns();
  printf("{\"sent\":%ld,\"ns\":%llu,\"errors\":%ld}\n", sent, (unsigned long long)(t1 - t0), errors);
  return 0;
}
