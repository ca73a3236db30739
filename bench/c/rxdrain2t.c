/*
 * rxdrain2t IFNAME EXPECT drain [WARM]: rxdrain's drain with tunctl's thread structure, in C.
 * A reader thread read()s into a 1 MiB ring in tunctl's record layout ([u32 length][bytes]
 * [pad to 4], room for a 65551-byte record kept free, batches of 256 published at once,
 * a futex wake only when the consumer sleeps), and a consumer thread walks the records.
 * The rate it reaches is the ceiling of a worker + consuming-thread design on this machine,
 * before any JavaScript: the rx.drain rows read against it as well as against rxdrain.
 */
#include "tunbench.h"
#include <pthread.h>

#define CAP (1 << 20)
#define MAXREC 65551
#define BATCH 256

static uint8_t *ring;
static _Atomic int W, R, WRAPAT, SEQ, WAITING, DONE;
static long consumed;
static uint64_t consumedBytes;


static void *consumer(void *arg) {
  (void)arg;
  int r = 0;
  for (;;) {
    int seq = atomic_load(&SEQ);
    int w = atomic_load_explicit(&W, memory_order_acquire);
    if (w == r) {
      if (atomic_load(&DONE)) return NULL;
      atomic_store(&WAITING, 1);
      if (atomic_load(&W) == r && !atomic_load(&DONE)) futex(&SEQ, FUTEX_WAIT_PRIVATE, seq);
      atomic_store(&WAITING, 0);
      continue;
    }
    if (w < r) { /* the producer wrapped: finish up to the wrap point, then start at 0 */
      int end = atomic_load(&WRAPAT);
      while (r < end) { uint32_t len; memcpy(&len, ring + r, 4); consumed++; consumedBytes += len; r += 4 + align4((int)len); }
      r = 0;
      atomic_store_explicit(&R, r, memory_order_release);
      continue;
    }
    while (r < w) { uint32_t len; memcpy(&len, ring + r, 4); consumed++; consumedBytes += len; r += 4 + align4((int)len); }
    atomic_store_explicit(&R, r, memory_order_release);
  }
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[3], "drain") != 0) { fprintf(stderr, "usage: rxdrain2t IFNAME EXPECT drain [WARM]\n"); return 1; }
  long expect = atol(argv[2]);
  int fd = tun_attach(argv[1], 0, 1);
  ring = aligned_alloc(4096, CAP);
  memset(ring, 0, CAP);
  char line[256];
  static uint8_t buf[65536 + 16];
  ready_wait(line, sizeof line);
  warm_then_wait(argc, argv, fd, buf, sizeof buf, line, sizeof line);
  pthread_t t;
  pthread_create(&t, NULL, consumer, NULL);
  long count = 0;
  int wpos = 0, drained = 0;
  uint64_t t0 = now_ns();
  while (count < expect && !drained) {
    int r = atomic_load_explicit(&R, memory_order_acquire), end;
    if (wpos >= r) {
      if (CAP - wpos >= 4 + MAXREC) end = CAP;
      else if (r - 4 >= 4 + MAXREC) {
        atomic_store(&WRAPAT, wpos);
        wpos = 0;
        atomic_store_explicit(&W, 0, memory_order_release);
        end = r - 4;
      } else continue; /* full: the consumer makes room */
    } else if (r - 4 - wpos >= 4 + MAXREC) end = r - 4;
    else continue;
    int pos = wpos;
    for (int k = 0; k < BATCH && count < expect && end - pos - 4 >= MAXREC; k++) {
      ssize_t n = read(fd, ring + pos + 4, MAXREC);
      if (n < 0) {
        if (errno == EINTR) { k--; continue; }
        if (errno != EAGAIN) die("read");
        drained = 1;
        break;
      }
      uint32_t len = (uint32_t)n;
      memcpy(ring + pos, &len, 4);
      pos += 4 + align4((int)len);
      count++;
    }
    wpos = pos;
    atomic_store_explicit(&W, wpos, memory_order_release);
    atomic_fetch_add(&SEQ, 1);
    if (atomic_load(&WAITING)) futex(&SEQ, FUTEX_WAKE_PRIVATE, 1);
  }
  atomic_store(&DONE, 1);
  atomic_fetch_add(&SEQ, 1);
  futex(&SEQ, FUTEX_WAKE_PRIVATE, 1);
  pthread_join(t, NULL);
  uint64_t ns = now_ns() - t0;
  if (consumed != count) { fprintf(stderr, "consumed %ld of %ld\n", consumed, count); return 2; }
  printf("{\"packets\":%ld,\"bytes\":%llu,\"ns\":%llu}\n", count, (unsigned long long)consumedBytes, (unsigned long long)ns);
  return 0;
}
