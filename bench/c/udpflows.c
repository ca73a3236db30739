/*
 * udpflows DST_IP PORT FLOWS PAYLOAD COUNT [SRC_PORT]: send COUNT UDP datagrams with sendmmsg (batches of
 * 64), round-robin over FLOWS flows (destination ports PORT..PORT+FLOWS-1). The first 8 payload
 * bytes carry the flow index and that flow's sequence number (big-endian u32 each), so a reader
 * can check that no flow was reordered. PAYLOAD is at least 8. With SRC_PORT the socket is bound
 * to it, so every run sends the same 5-tuples (and the kernel puts them on the same queues).
 */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: udpflows DST_IP PORT FLOWS PAYLOAD COUNT\n"); return 1; }
  struct in_addr addr;
  if (inet_pton(AF_INET, argv[1], &addr) != 1) { fprintf(stderr, "bad address\n"); return 1; }
  int port = atoi(argv[2]);
  int flows = atoi(argv[3]);
  size_t payload = (size_t)atol(argv[4]);
  long count = atol(argv[5]);
  if (flows < 1 || flows > 4096 || payload < 8 || payload > 65000) { fprintf(stderr, "bad flows or payload\n"); return 1; }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  int big = 64 << 20;
  setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  if (argc > 6) {
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[6])) };
    if (bind(s, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
  }
  enum { B = 64 };
  static uint8_t bufs[B][65536];
  struct sockaddr_in *dst = calloc((size_t)flows, sizeof *dst);
  uint32_t *seq = calloc((size_t)flows, sizeof *seq);
  if (!dst || !seq) die("calloc");
  for (int f = 0; f < flows; f++) {
    dst[f].sin_family = AF_INET;
    dst[f].sin_addr = addr;
    dst[f].sin_port = htons((uint16_t)(port + f));
  }
  struct mmsghdr msgs[B];
  struct iovec iov[B];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < B; i++) {
    memset(bufs[i], 0xab, payload);
    iov[i].iov_base = bufs[i]; iov[i].iov_len = payload;
    msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  long sent = 0, errors = 0, next = 0; /* next: index of the next datagram to fill */
  int filled = 0, first = 0;            /* msgs[first, first + filled) are filled and unsent */
  uint64_t t0 = now_ns();
  while (sent < count) {
    while (first + filled < B && next < count) {
      int i = first + filled, f = (int)(next % flows);
      uint32_t be_f = htonl((uint32_t)f), be_s = htonl(seq[f]++);
      memcpy(bufs[i], &be_f, 4);
      memcpy(bufs[i] + 4, &be_s, 4);
      msgs[i].msg_hdr.msg_name = &dst[f];
      filled++;
      next++;
    }
    int n = sendmmsg(s, msgs + first, (unsigned)filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) { errors++; if (errors > 1000000) break; continue; }
      die("sendmmsg");
    }
    sent += n;
    first += n;
    filled -= n;
    if (filled == 0) first = 0;
    else if (first + filled == B) { /* keep order: move the unsent ones to the front */
      memmove(msgs, msgs + first, sizeof msgs[0] * (size_t)filled);
      for (int i = 0; i < filled; i++) {
        memcpy(bufs[i], bufs[first + i], payload);
        iov[i].iov_base = bufs[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
      }
      first = 0;
    }
  }
  uint64_t t1 = now_ns();
  printf("{\"sent\":%ld,\"ns\":%llu,\"errors\":%ld}\n", sent, (unsigned long long)(t1 - t0), errors);
  return 0;
}
