/*
 * fwd NETNS_A IF_A NETNS_B IF_B VNET: attach to IF_A inside network namespace NETNS_A and IF_B
 * inside NETNS_B (paths such as /run/netns/x), and forward packets both ways, one thread per
 * direction with blocking read()/write(). VNET=1 adds IFF_VNET_HDR and TUNSETOFFLOAD
 * (CSUM|TSO4|TSO6): TSO super-packets pass through whole with their virtio header.
 * Prints "ready", runs until killed.
 */
#include "tunbench.h"
#include <pthread.h>
#include <sched.h>

static int attach_in(const char *ns, const char *name, int vnet) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(ns, O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0) die("open netns");
  if (setns(target, CLONE_NEWNET) < 0) die("setns");
  int fd = tun_attach(name, vnet, 0);
  if (vnet && ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) die("TUNSETOFFLOAD");
  if (setns(self, CLONE_NEWNET) < 0) die("setns back");
  close(self);
  close(target);
  return fd;
}

struct dir { int from, to; };

static void *pump(void *arg) {
  struct dir *d = arg;
  static __thread uint8_t buf[65536 + 64];
  for (;;) {
    ssize_t n = read(d->from, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; die("read"); }
    if (write(d->to, buf, (size_t)n) < 0 && errno != EINTR && errno != EINVAL && errno != EIO) die("write");
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: fwd NETNS_A IF_A NETNS_B IF_B VNET\n"); return 1; }
  int vnet = atoi(argv[5]);
  int a = attach_in(argv[1], argv[2], vnet), b = attach_in(argv[3], argv[4], vnet);
  struct dir ab = { a, b }, ba = { b, a };
  pthread_t t1, t2;
  pthread_create(&t1, NULL, pump, &ab);
  pthread_create(&t2, NULL, pump, &ba);
  printf("ready\n");
  fflush(stdout);
  pthread_join(t1, NULL);
  return 0;
}
