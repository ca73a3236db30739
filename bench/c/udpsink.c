/*
 * udpsink IP PORT: bind a UDP socket with a 1 GiB receive buffer (SO_RCVBUFFORCE), print
 * "ready", and for each line "EXPECT" on stdin read what is queued (recvmmsg) until EXPECT
 * datagrams or 500 ms without any, then print the count. Reading only after the writer is done
 * keeps the sink off the CPUs while a writer is measured.
 */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: udpsink IP PORT\n"); return 1; }
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (s < 0) die("socket");
  int big = 1 << 30;
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0) die("SO_RCVBUFFORCE");
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  printf("ready\n");
  fflush(stdout);
  enum { B = 256 };
  static uint8_t bufs[B][2048];
  struct mmsghdr msgs[B];
  struct iovec iov[B];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < B; i++) {
    iov[i].iov_base = bufs[i]; iov[i].iov_len = sizeof bufs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
  }
  char line[256];
  struct pollfd pfd = { .fd = s, .events = POLLIN };
  while (fgets(line, sizeof line, stdin)) {
    long expect = atol(line), count = 0;
    while (count < expect) {
      int n = recvmmsg(s, msgs, B, 0, NULL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) die("recvmmsg");
        if (poll(&pfd, 1, 500) == 0) break;
        continue;
      }
      count += n;
    }
    printf("{\"packets\":%ld}\n", count);
    fflush(stdout);
  }
  return 0;
}
