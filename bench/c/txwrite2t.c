/*
 * txwrite2t IFNAME COUNT PAYLOAD SRC DST SPORT DPORT: txwrite with tunctl's thread structure,
 * in C. The main thread copies the packet COUNT times into a 256 KiB ring in tunctl's record
 * layout ([u32 length][bytes][pad to 4]), publishing every 32 records and waking the writer
 * only when it sleeps; a writer thread write()s each record to the tun and gives room back
 * every 64 KiB. The rate it reaches is the ceiling of a producing-thread + worker design on
 * this machine, before any JavaScript: the tx rows read against it as well as against
 * txwrite (whose one packet stays in its own core's cache).
 */
#include "tunbench.h"
#include <pthread.h>

#define CAP (256 * 1024)
#define PUBLISH 32
#define ACK_BYTES (64 * 1024)

static uint8_t *ring;
static _Atomic int W, R, WRAPAT, SEQ, RSEQ, WAITING, PWAITING, DONE;
static int fd;
static long written, errors;


static void give_back(int r) {
  atomic_store_explicit(&R, r, memory_order_release);
  atomic_fetch_add(&RSEQ, 1);
  if (atomic_load(&PWAITING)) futex(&RSEQ, FUTEX_WAKE_PRIVATE, 1);
}

static void write_run(int *r, int end, int *since) {
  while (*r < end) {
    uint32_t len;
    memcpy(&len, ring + *r, 4);
    while (write(fd, ring + *r + 4, len) < 0) {
      if (errno == EINTR) continue;
      errors++;
      break;
    }
    written++;
    *r += 4 + align4((int)len);
    if ((*since += 4 + (int)len) >= ACK_BYTES) { give_back(*r); *since = 0; }
  }
}

static void *writer(void *arg) {
  (void)arg;
  int r = 0, since = 0;
  for (;;) {
    int seq = atomic_load(&SEQ);
    int w = atomic_load_explicit(&W, memory_order_acquire);
    if (w == r) {
      give_back(r);
      since = 0;
      if (atomic_load(&DONE) && atomic_load(&W) == r) return NULL;
      atomic_store(&WAITING, 1);
      if (atomic_load(&W) == r && !atomic_load(&DONE)) futex(&SEQ, FUTEX_WAIT_PRIVATE, seq);
      atomic_store(&WAITING, 0);
      continue;
    }
    if (w < r) { /* the producer wrapped: finish up to the wrap point, then start at 0 */
      write_run(&r, atomic_load(&WRAPAT), &since);
      r = 0;
      give_back(r);
      since = 0;
      continue;
    }
    write_run(&r, w, &since);
  }
}

static void publish(int wpos) {
  atomic_store_explicit(&W, wpos, memory_order_release);
  atomic_fetch_add(&SEQ, 1);
  if (atomic_load(&WAITING)) futex(&SEQ, FUTEX_WAKE_PRIVATE, 1);
}

int main(int argc, char **argv) {
  long count;
  static uint8_t pkt[65536];
  uint32_t len = (uint32_t)tx_args(argc, argv, "txwrite2t", &count, pkt);
  int rec = 4 + align4((int)len);
  fd = tun_attach(argv[1], 0, 0);
  ring = aligned_alloc(4096, CAP);
  memset(ring, 0, CAP);
  char line[256];
  ready_wait(line, sizeof line);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  uint64_t t0 = now_ns();
  int wpos = 0, pending = 0;
  for (long i = 0; i < count; i++) {
    for (;;) { /* room for one record, keeping one byte free so that W == R means empty */
      int rseq = atomic_load(&RSEQ);
      int r = atomic_load_explicit(&R, memory_order_acquire);
      if (wpos >= r) {
        if (CAP - wpos >= rec) break;
        if (r > rec) { /* wrap: records resume at 0 */
          atomic_store(&WRAPAT, wpos);
          wpos = 0;
          publish(0);
          pending = 0;
          break;
        }
      } else if (r - wpos > rec) break;
      if (pending) { publish(wpos); pending = 0; }
      atomic_store(&PWAITING, 1);
      if (atomic_load(&R) == r) futex(&RSEQ, FUTEX_WAIT_PRIVATE, rseq);
      atomic_store(&PWAITING, 0);
    }
    memcpy(ring + wpos, &len, 4);
    memcpy(ring + wpos + 4, pkt, len);
    wpos += rec;
    if (++pending >= PUBLISH) { publish(wpos); pending = 0; }
  }
  publish(wpos);
  atomic_store(&DONE, 1);
  atomic_fetch_add(&SEQ, 1);
  futex(&SEQ, FUTEX_WAKE_PRIVATE, 1);
  pthread_join(t, NULL);
  uint64_t ns = now_ns() - t0;
  if (written != count) { fprintf(stderr, "written %ld of %ld\n", written, count); return 2; }
  printf("{\"packets\":%ld,\"errors\":%ld,\"ns\":%llu}\n", written - errors, errors, (unsigned long long)ns);
  return 0;
}
