// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  Single-producer single-consumer throughput: one producer thread passes N
  small messages to one consumer thread through each queue in turn, in the
  same run, and the consumer checks every message (sequence and content), so
  a queue cannot win by losing or reordering messages.

    bench_spsc [MESSAGES]

  Queues: rtl_msgring (typed messages with header), rtl_ring (fixed-size
  records through the byte ring), jack_ringbuffer (the same records),
  ck_ring SPSC (records stored by value in a typed buffer, or bare
  pointer-size values) and liburcu's wfcqueue (preallocated nodes; unbounded,
  so its producer never waits).  Each queue holds 1024 messages.  Runs of the
  queues are short and interleaved, and the median of several runs is
  reported, so that noise from other processes on the machine hits every
  queue alike.
*/

#define _GNU_SOURCE

#include <rtlane/msgring.h>
#include <rtlane/ring.h>
#include <rtlane/status.h>

#include <ck_ring.h>
#include <jack/ringbuffer.h>
#include <urcu/wfcqueue.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MESSAGES 1024U
#define SPIN_WAIT 1024
#define MIN_RUNS 5U
#define MAX_RUNS 21U
#define BUDGET_SECONDS 24.0
#define DEFAULT_MESSAGES 1000000U
#define URCU_MAX_MESSAGES 1000000U

typedef enum { Q_MSGRING, Q_RING, Q_JACK, Q_CK, Q_URCU, N_QUEUES } QueueKind;

static const char* const queue_names[N_QUEUES] = {
  "rtl_msgring", "rtl_ring", "jack_ringbuffer", "ck_ring spsc", "urcu wfcqueue"};

// ck_ring's typed interface names the struct by its tag.
typedef struct Record16 {
  uint64_t seq;
  uint64_t check;
} Record16;

CK_RING_PROTOTYPE(rec16, Record16)

typedef struct {
  struct cds_wfcq_node node;
  Record16             rec;
} UrcuNode;

typedef struct {
  QueueKind   kind;
  size_t      payload; // 8 or 16
  uint64_t    n;
  _Atomic int go;
  uint64_t    errors;

  RtlMsgRing*         msgring;
  RtlRing*            ring;
  jack_ringbuffer_t*  jack;
  ck_ring_t           ck;
  void*               ck_buffer;
  struct __cds_wfcq_head urcu_head;
  struct cds_wfcq_tail   urcu_tail;
  UrcuNode*              urcu_nodes;
} Bench;

static int cpu_producer = -1;
static int cpu_consumer = -1;

/*
  What a side does when the queue is full or empty, the same for every
  queue: wait a moment (a few hundred cycles, about a cache line's trip
  between cores) before looking again, rather than hammering the line the
  other side is about to write.  A plain loop, not PAUSE: under KVM a run of
  PAUSEs makes the host deschedule the virtual CPU (pause-loop exiting),
  which would measure the hypervisor rather than the queue.
*/
static inline void
relax(void)
{
  for (int i = 0; i < SPIN_WAIT; ++i) {
    atomic_signal_fence(memory_order_seq_cst);
  }
}

static inline uint64_t
check_of(const uint64_t seq)
{
  return seq * 0x9E3779B97F4A7C15ULL;
}

static void
pin(const int cpu)
{
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((size_t)cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
}

static void
choose_cpus(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) < 2) {
    return;
  }
  if (CPU_ISSET(0, &set) && CPU_ISSET(1, &set)) {
    cpu_producer = 0;
    cpu_consumer = 1;
    return;
  }
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET((size_t)i, &set)) {
      if (cpu_producer < 0) {
        cpu_producer = i;
      } else {
        cpu_consumer = i;
        return;
      }
    }
  }
}

static void
wait_go(Bench* const b)
{
  while (!atomic_load_explicit(&b->go, memory_order_acquire)) {
    relax();
  }
}

// --- producers -----------------------------------------------------------

static void
produce(Bench* const b)
{
  const uint64_t n = b->n;
  switch (b->kind) {
  case Q_MSGRING:
    for (uint64_t i = 0U; i < n; ++i) {
      const Record16 r = {i, check_of(i)};
      while (rtl_msgring_send(b->msgring, 1U, &r, (uint32_t)b->payload)) {
        relax();
      }
    }
    break;
  case Q_RING:
    for (uint64_t i = 0U; i < n; ++i) {
      const Record16 r = {i, check_of(i)};
      while (!rtl_ring_write(b->ring, &r, b->payload)) {
        relax();
      }
    }
    break;
  case Q_JACK:
    for (uint64_t i = 0U; i < n; ++i) {
      const Record16 r = {i, check_of(i)};
      while (jack_ringbuffer_write_space(b->jack) < b->payload) {
        relax();
      }
      jack_ringbuffer_write(b->jack, (const char*)&r, b->payload);
    }
    break;
  case Q_CK:
    if (b->payload == 16U) {
      Record16* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        Record16 r = {i, check_of(i)};
        while (!ck_ring_enqueue_spsc_rec16(&b->ck, buf, &r)) {
          relax();
        }
      }
    } else {
      ck_ring_buffer_t* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        while (!ck_ring_enqueue_spsc(&b->ck, buf, (void*)(uintptr_t)i)) {
          relax();
        }
      }
    }
    break;
  case Q_URCU:
    for (uint64_t i = 0U; i < n; ++i) {
      UrcuNode* const node = &b->urcu_nodes[i];
      cds_wfcq_node_init(&node->node);
      node->rec.seq   = i;
      node->rec.check = check_of(i);
      cds_wfcq_enqueue(&b->urcu_head, &b->urcu_tail, &node->node);
    }
    break;
  case N_QUEUES:
    break;
  }
}

// --- consumers -----------------------------------------------------------

static uint64_t
verify(const Record16* const r, const uint64_t i, const size_t payload)
{
  return (r->seq != i) | (payload == 16U && r->check != check_of(i));
}

static void
consume(Bench* const b)
{
  const uint64_t n      = b->n;
  uint64_t       errors = 0U;
  switch (b->kind) {
  case Q_MSGRING:
    for (uint64_t i = 0U; i < n; ++i) {
      RtlMsgHeader h;
      Record16     r;
      while (rtl_msgring_recv(b->msgring, &h, &r, sizeof(r))) {
        relax();
      }
      errors += verify(&r, i, b->payload) | (h.size != b->payload);
    }
    break;
  case Q_RING:
    for (uint64_t i = 0U; i < n; ++i) {
      Record16 r;
      while (!rtl_ring_read(b->ring, &r, b->payload)) {
        relax();
      }
      errors += verify(&r, i, b->payload);
    }
    break;
  case Q_JACK:
    for (uint64_t i = 0U; i < n; ++i) {
      Record16 r;
      while (jack_ringbuffer_read_space(b->jack) < b->payload) {
        relax();
      }
      jack_ringbuffer_read(b->jack, (char*)&r, b->payload);
      errors += verify(&r, i, b->payload);
    }
    break;
  case Q_CK:
    if (b->payload == 16U) {
      Record16* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        Record16 r;
        while (!ck_ring_dequeue_spsc_rec16(&b->ck, buf, &r)) {
          relax();
        }
        errors += verify(&r, i, 16U);
      }
    } else {
      ck_ring_buffer_t* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        void* v = NULL;
        while (!ck_ring_dequeue_spsc(&b->ck, buf, &v)) {
          relax();
        }
        errors += (uintptr_t)v != i;
      }
    }
    break;
  case Q_URCU:
    for (uint64_t i = 0U; i < n; ++i) {
      struct cds_wfcq_node* node = NULL;
      while (!(node = __cds_wfcq_dequeue_blocking(&b->urcu_head, &b->urcu_tail))) {
        relax();
      }
      const UrcuNode* const u = caa_container_of(node, UrcuNode, node);
      errors += verify(&u->rec, i, b->payload);
    }
    break;
  case N_QUEUES:
    break;
  }
  b->errors = errors;
}

static void*
producer_main(void* const arg)
{
  Bench* const b = arg;
  pin(cpu_producer);
  wait_go(b);
  produce(b);
  return NULL;
}

static void*
consumer_main(void* const arg)
{
  Bench* const b = arg;
  pin(cpu_consumer);
  wait_go(b);
  consume(b);
  return NULL;
}

// --- harness -------------------------------------------------------------

static int
setup(Bench* const b)
{
  const size_t bytes = QUEUE_MESSAGES * b->payload;
  switch (b->kind) {
  case Q_MSGRING:
    if (rtl_msgring_new(NULL, QUEUE_MESSAGES, b->payload, &b->msgring)) {
      return 1;
    }
    (void)rtl_msgring_lock_memory(b->msgring); // prefaults even if mlock fails
    return 0;
  case Q_RING:
    if (rtl_ring_new(NULL, bytes, &b->ring)) {
      return 1;
    }
    (void)rtl_ring_lock_memory(b->ring);
    return 0;
  case Q_JACK:
    if (!(b->jack = jack_ringbuffer_create(bytes))) {
      return 1;
    }
    jack_ringbuffer_mlock(b->jack);
    return 0;
  case Q_CK: {
    const size_t size = QUEUE_MESSAGES * (b->payload == 16U ? sizeof(Record16)
                                                           : sizeof(ck_ring_buffer_t));
    ck_ring_init(&b->ck, QUEUE_MESSAGES);
    if (!(b->ck_buffer = aligned_alloc(128U, size))) {
      return 1;
    }
    memset(b->ck_buffer, 0, size);
    return 0;
  }
  case Q_URCU:
    __cds_wfcq_init(&b->urcu_head, &b->urcu_tail);
    b->urcu_nodes = calloc(b->n, sizeof(UrcuNode));
    return !b->urcu_nodes;
  case N_QUEUES:
    break;
  }
  return 1;
}

static void
teardown(Bench* const b)
{
  rtl_msgring_free(b->msgring);
  rtl_ring_free(b->ring);
  if (b->jack) {
    jack_ringbuffer_free(b->jack);
  }
  free(b->ck_buffer);
  free(b->urcu_nodes);
}

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/// Messages per second for one run, or a negative value on failure.
static double
run_once(const QueueKind kind, const size_t payload, const uint64_t n)
{
  Bench* const b = calloc(1U, sizeof(Bench));
  if (!b) {
    return -1.0;
  }
  b->kind    = kind;
  b->payload = payload;
  b->n       = n;
  atomic_init(&b->go, 0);

  double rate = -1.0;
  if (!setup(b)) {
    pthread_t prod;
    pthread_t cons;
    if (!pthread_create(&cons, NULL, consumer_main, b)) {
      if (!pthread_create(&prod, NULL, producer_main, b)) {
        // Give both threads time to reach their CPUs before starting.
        const struct timespec settle = {0, 2000000};
        nanosleep(&settle, NULL);
        const double t0 = now();
        atomic_store_explicit(&b->go, 1, memory_order_release);
        pthread_join(prod, NULL);
        pthread_join(cons, NULL);
        const double t1 = now();
        rate = b->errors ? -2.0 : (double)n / (t1 - t0);
      } else {
        b->n = 0U;
        atomic_store_explicit(&b->go, 1, memory_order_release);
        pthread_join(cons, NULL);
      }
    }
  }
  teardown(b);
  free(b);
  return rate;
}

static int
cmp_double(const void* const a, const void* const b)
{
  const double x = *(const double*)a;
  const double y = *(const double*)b;
  return (x > y) - (x < y);
}

int
main(const int argc, char** const argv)
{
  uint64_t n = DEFAULT_MESSAGES;
  if (argc > 1) {
    n = strtoull(argv[1], NULL, 10);
    if (!n) {
      fprintf(stderr, "usage: %s [MESSAGES]\n", argv[0]);
      return 2;
    }
  }
  const uint64_t n_urcu  = n < URCU_MAX_MESSAGES ? n : URCU_MAX_MESSAGES;
  const int      verbose = getenv("BENCH_VERBOSE") != NULL;

  choose_cpus();
  printf("SPSC throughput, %llu messages per run (urcu %llu), queues of %u "
         "messages, producer on cpu %d, consumer on cpu %d\n",
         (unsigned long long)n, (unsigned long long)n_urcu, QUEUE_MESSAGES,
         cpu_producer, cpu_consumer);

  static const size_t payloads[2] = {16U, 8U};
  int                 failed      = 0;
  for (size_t p = 0U; p < 2U; ++p) {
    // Short runs, interleaved, as many as the time budget allows: a run
    // that another process preempted lands in the tail, not in the median.
    double       rates[N_QUEUES][MAX_RUNS];
    unsigned     n_runs = 0U;
    const double start  = now();
    while (n_runs < MAX_RUNS &&
           (n_runs < MIN_RUNS || now() - start < BUDGET_SECONDS / 2.0)) {
      for (unsigned q = 0U; q < N_QUEUES; ++q) {
        const double rate =
          run_once((QueueKind)q, payloads[p], q == Q_URCU ? n_urcu : n);
        if (rate < 0.0) {
          fprintf(stderr, "%s, %zu-byte payload: %s\n", queue_names[q],
                  payloads[p],
                  rate < -1.5 ? "messages lost, duplicated or corrupted"
                              : "setup failed");
          failed = 1;
        }
        rates[q][n_runs] = rate;
      }
      if (verbose) {
        fprintf(stderr, "run %2u:", n_runs);
        for (unsigned q = 0U; q < N_QUEUES; ++q) {
          fprintf(stderr, " %7.1f", rates[q][n_runs] * 1e-6);
        }
        fprintf(stderr, "\n");
      }
      ++n_runs;
    }

    // Ratios from runs made back to back, so that a slow spell of the
    // machine divides out instead of landing on one queue.
    static const unsigned pairs[4][2] = {
      {Q_MSGRING, Q_CK}, {Q_MSGRING, Q_JACK}, {Q_RING, Q_CK}, {Q_RING, Q_JACK}};
    double ratio[4];
    for (unsigned k = 0U; k < 4U; ++k) {
      double r[MAX_RUNS];
      for (unsigned i = 0U; i < n_runs; ++i) {
        r[i] = rates[pairs[k][0]][i] / rates[pairs[k][1]][i];
      }
      qsort(r, n_runs, sizeof(double), cmp_double);
      ratio[k] = r[n_runs / 2U];
    }

    printf("\n%zu-byte payload, %u runs   median Mmsg/s   best\n", payloads[p],
           n_runs);
    for (unsigned q = 0U; q < N_QUEUES; ++q) {
      qsort(rates[q], n_runs, sizeof(double), cmp_double);
      printf("  %-16s %18.1f %8.1f\n", queue_names[q], rates[q][n_runs / 2U] * 1e-6,
             rates[q][n_runs - 1U] * 1e-6);
    }
    printf("  median of paired ratios: rtl_msgring/ck_ring %.2fx  "
           "rtl_msgring/jack %.2fx  rtl_ring/ck_ring %.2fx  rtl_ring/jack %.2fx\n",
           ratio[0], ratio[1], ratio[2], ratio[3]);
  }
  return failed;
}
