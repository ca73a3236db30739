/*
 * rxdrainuring IFNAME EXPECT drain [WARM] [N]: rxdrain's drain through io_uring: N reads
 * (default 16) submitted with one io_uring_enter, on the fd registered as a fixed file,
 * into N slots of a buffer. The question it answers for issue #11: does batching the
 * syscalls beat one read() per packet on this kernel? (The fd is O_NONBLOCK, so a read of
 * an empty queue completes with -EAGAIN at once: the drain ends at the first one.)
 */
#include "tunbench.h"
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define SLOT 65552

static int ringFd;
static struct io_uring_sqe *sqes;
static unsigned *sqTail, *sqMask, *cqHead, *cqTail, *cqMask;
static struct io_uring_cqe *cqes;

static void setup(unsigned entries) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  ringFd = (int)syscall(__NR_io_uring_setup, entries, &p);
  if (ringFd < 0) die("io_uring_setup");
  if (!(p.features & IORING_FEAT_SINGLE_MMAP)) { fprintf(stderr, "io_uring: no single mmap\n"); exit(2); }
  size_t sqBytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cqBytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  char *q = mmap(NULL, sqBytes > cqBytes ? sqBytes : cqBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ringFd, IORING_OFF_SQ_RING);
  if (q == MAP_FAILED) die("mmap sq");
  sqTail = (unsigned *)(q + p.sq_off.tail);
  sqMask = (unsigned *)(q + p.sq_off.ring_mask);
  unsigned *array = (unsigned *)(q + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  cqHead = (unsigned *)(q + p.cq_off.head);
  cqTail = (unsigned *)(q + p.cq_off.tail);
  cqMask = (unsigned *)(q + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe *)(q + p.cq_off.cqes);
  sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ringFd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) die("mmap sqes");
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[3], "drain") != 0) { fprintf(stderr, "usage: rxdrainuring IFNAME EXPECT drain [WARM] [N]\n"); return 1; }
  long expect = atol(argv[2]);
  int n = argc > 5 ? atoi(argv[5]) : 16;
  if (n < 1 || n > 128) { fprintf(stderr, "N must be 1..128\n"); return 1; }
  int fd = tun_attach(argv[1], 0, 1);
  setup(256);
  if (syscall(__NR_io_uring_register, ringFd, IORING_REGISTER_FILES, &fd, 1) < 0) die("IORING_REGISTER_FILES");
  uint8_t *slots = aligned_alloc(4096, (size_t)n * SLOT);
  char line[256];
  ready_wait(line, sizeof line);
  warm_then_wait(argc, argv, fd, slots, SLOT, line, sizeof line);
  long count = 0;
  uint64_t bytes = 0, t0 = now_ns();
  int drained = 0;
  while (count < expect && !drained) {
    int k = expect - count < n ? (int)(expect - count) : n;
    unsigned tail = *sqTail;
    for (int i = 0; i < k; i++) {
      struct io_uring_sqe *s = &sqes[(tail + i) & *sqMask];
      memset(s, 0, sizeof *s);
      s->opcode = IORING_OP_READ;
      s->fd = 0; /* fixed file 0 */
      s->flags = IOSQE_FIXED_FILE;
      s->addr = (uint64_t)(uintptr_t)(slots + (size_t)i * SLOT);
      s->len = SLOT;
      s->off = (uint64_t)-1;
    }
    atomic_store_explicit((_Atomic unsigned *)sqTail, tail + k, memory_order_release);
    if (syscall(__NR_io_uring_enter, ringFd, k, k, IORING_ENTER_GETEVENTS, NULL, 0) < 0) die("io_uring_enter");
    unsigned h = *cqHead, t = atomic_load_explicit((_Atomic unsigned *)cqTail, memory_order_acquire);
    for (; h != t; h++) {
      int res = cqes[h & *cqMask].res;
      if (res >= 0) { count++; bytes += (uint64_t)res; }
      else if (res == -EAGAIN) drained = 1;
      else { errno = -res; die("read"); }
    }
    atomic_store_explicit((_Atomic unsigned *)cqHead, h, memory_order_release);
  }
  uint64_t ns = now_ns() - t0;
  /* Let go of the device now: the ring's teardown after exit is asynchronous, and the next
   * reader attaches to the same device by name. */
  if (syscall(__NR_io_uring_register, ringFd, IORING_UNREGISTER_FILES, NULL, 0) < 0) die("IORING_UNREGISTER_FILES");
  close(ringFd);
  close(fd);
  printf("{\"packets\":%ld,\"bytes\":%llu,\"ns\":%llu}\n", count, (unsigned long long)bytes, (unsigned long long)ns);
  return 0;
}
