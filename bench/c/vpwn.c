/*
 * vpwn: the C reference of examples/vpwn/vpwn.mjs, one end of a point-to-point IP tunnel over TCP.
 *
 *   vpwn listen  ADDR PORT IFNAME CIDR [CIDR6]    e.g. vpwn listen 198.18.70.2 7000 vpwn0 198.18.71.2/24
 *   vpwn connect ADDR PORT IFNAME CIDR [CIDR6]
 *
 * It creates tun IFNAME (IFF_TUN | IFF_NO_PI), gives it the IPv4 address CIDR (and optionally an
 * IPv6 one) and brings it up by ioctl, then listens (accepts one peer) or connects (retrying for
 * 10 s). Same wire framing as vpwn.mjs: each packet is a 2-byte big-endian length and the packet,
 * over a TCP connection with TCP_NODELAY. One poll() loop for both directions:
 *
 * - tun -> socket: read packets from the tun while there is room in a 256 KiB output buffer
 *   (up to 64 a wake-up), framing each in place, then write() the buffer. While it holds
 *   unsent bytes the loop waits for POLLOUT and stops reading the tun (the kernel's queue then
 *   takes the backlog and drops, as vpwn.mjs does without credits).
 * - socket -> tun: read() what the socket has into a 256 KiB input buffer and write each
 *   complete packet to the tun (a failed write drops the packet).
 *
 * Prints "ready" once connected (the listening end prints "listening" first). Ends on EOF of a
 * piped stdin (the bench's line protocol), SIGTERM/SIGINT, or when the peer closes, printing {"toPeer":N,"fromPeer":N,"drops":N}.
 */
#include "tunbench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define BUFCAP (256 * 1024)
#define MAXPKT 65535
#define BURST 64

struct in6_ifreq_ { struct in6_addr addr; uint32_t prefixlen; int ifindex; }; /* linux/ipv6.h's in6_ifreq */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void parse_cidr(const char *cidr, char *addr, size_t size, int *prefix, int dflt) {
  const char *slash = strchr(cidr, '/');
  size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
  if (n >= size) { fprintf(stderr, "bad address %s\n", cidr); exit(1); }
  memcpy(addr, cidr, n);
  addr[n] = 0;
  *prefix = slash ? atoi(slash + 1) : dflt;
}

/* Address(es) and link up, by ioctl (as `ip addr add` + `ip link set up` would). */
static void configure(const char *ifname, const char *cidr4, const char *cidr6) {
  char addr[64];
  int prefix;
  struct ifreq ifr;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  parse_cidr(cidr4, addr, sizeof addr, &prefix, 24);
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
  sin->sin_family = AF_INET;
  if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) { fprintf(stderr, "bad IPv4 address %s\n", cidr4); exit(1); }
  if (ioctl(s, SIOCSIFADDR, &ifr) < 0) die("SIOCSIFADDR");
  sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
  if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) die("SIOCSIFNETMASK");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("SIOCGIFFLAGS");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("SIOCSIFFLAGS");
  close(s);
  if (cidr6) {
    struct in6_ifreq_ r6;
    memset(&r6, 0, sizeof r6);
    parse_cidr(cidr6, addr, sizeof addr, &prefix, 64);
    if (inet_pton(AF_INET6, addr, &r6.addr) != 1) { fprintf(stderr, "bad IPv6 address %s\n", cidr6); exit(1); }
    r6.prefixlen = (uint32_t)prefix;
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    if (s6 < 0) die("socket(AF_INET6)");
    if (ioctl(s6, SIOCGIFINDEX, &ifr) < 0) die("SIOCGIFINDEX");
    r6.ifindex = ifr.ifr_ifindex;
    if (ioctl(s6, SIOCSIFADDR, &r6) < 0) die("SIOCSIFADDR (IPv6)");
    close(s6);
  }
}

static int peer_socket(int listening, const char *host, int port) {
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "bad peer address %s\n", host); exit(1); }
  int s;
  if (listening) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (l < 0) die("socket");
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (listen(l, 1) < 0) die("listen");
    printf("listening\n");
    fflush(stdout);
    do s = accept4(l, NULL, NULL, SOCK_CLOEXEC); while (s < 0 && errno == EINTR && !stop);
    if (s < 0) die("accept");
    close(l);
  } else {
    for (int tries = 0;; tries++) {
      s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (s < 0) die("socket");
      if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) break;
      if (tries >= 100 || stop) die("connect");
      close(s);
      usleep(100 * 1000);
    }
  }
  int one = 1;
  if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("TCP_NODELAY");
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
  return s;
}

int main(int argc, char **argv) {
  if (argc < 6 || (strcmp(argv[1], "listen") && strcmp(argv[1], "connect"))) {
    fprintf(stderr, "usage: vpwn listen|connect ADDR PORT IFNAME CIDR [CIDR6]\n");
    return 1;
  }
  struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll() returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int tun = tun_attach(argv[4], 0, 1);
  configure(argv[4], argv[5], argc > 6 ? argv[6] : NULL);
  int sock = peer_socket(!strcmp(argv[1], "listen"), argv[2], atoi(argv[3]));
  printf("ready\n");
  fflush(stdout);

  static uint8_t out[BUFCAP], in[BUFCAP];
  size_t outlen = 0, outoff = 0, inlen = 0;
  unsigned long long to_peer = 0, from_peer = 0, drops = 0;
  struct stat st; /* stdin EOF ends it only when stdin is the harness's pipe, not /dev/null */
  int stdin_open = fstat(0, &st) == 0 && S_ISFIFO(st.st_mode);
  while (!stop) {
    struct pollfd p[3] = {
      { .fd = tun, .events = outlen == 0 ? POLLIN : 0 },
      { .fd = sock, .events = POLLIN | (outlen > outoff ? POLLOUT : 0) },
      { .fd = stdin_open ? 0 : -1, .events = POLLIN },
    };
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (p[2].revents) {
      char line[256];
      if (!fgets(line, sizeof line, stdin)) break; /* stdin EOF: the harness is done */
    }
    /* socket -> tun */
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock, in + inlen, BUFCAP - inlen);
      if (n == 0) break; /* the peer closed */
      if (n < 0 && errno != EAGAIN && errno != EINTR) die("read(socket)");
      if (n > 0) {
        inlen += (size_t)n;
        size_t at = 0;
        while (inlen - at >= 2) {
          size_t len = (size_t)in[at] << 8 | in[at + 1];
          if (inlen - at - 2 < len) break;
          if (len > 0) {
            if (write(tun, in + at + 2, len) < 0) drops++;
            else from_peer++;
          }
          at += 2 + len;
        }
        memmove(in, in + at, inlen - at);
        inlen -= at;
      }
    }
    /* tun -> socket: a burst of packets, framed in place, then one write() */
    if (p[0].revents & POLLIN) {
      for (int k = 0; k < BURST && BUFCAP - outlen >= 2 + MAXPKT; k++) {
        ssize_t n = read(tun, out + outlen + 2, MAXPKT);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          die("read(tun)");
        }
        out[outlen] = (uint8_t)(n >> 8);
        out[outlen + 1] = (uint8_t)n;
        outlen += 2 + (size_t)n;
        to_peer++;
      }
    }
    if (outlen > outoff) {
      ssize_t n = write(sock, out + outoff, outlen - outoff);
      if (n < 0 && errno != EAGAIN && errno != EINTR) die("write(socket)");
      if (n > 0) outoff += (size_t)n;
      if (outoff == outlen) outlen = outoff = 0;
    }
  }
  printf("{\"toPeer\":%llu,\"fromPeer\":%llu,\"drops\":%llu}\n", to_peer, from_peer, drops);
  fflush(stdout);
  return 0;
}
