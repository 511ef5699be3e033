// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

/*
  Single-producer single-consumer throughput: one producer thread passes N
  small messages to one consumer thread through each queue in turn, in the
  same run, and the consumer checks every message (sequence and content), so
  a queue cannot win by losing or reordering messages.

    bench_spsc [MESSAGES]

  Two message sizes: a 16-byte record, and an 8-byte (pointer-size) one.
  Queues, each holding 1024 messages:

    rtl_msgring      rtl_msgring_send/recv, type + size header per message
    rtl_ring         rtl_ring_write/read of fixed-size records
    jack_ringbuffer  the same records: write_space/write, read_space/read
    ck_ring          ck_ring_enqueue/dequeue_spsc, the bare record stored by
                     value in a typed buffer (CK_RING_PROTOTYPE); for 8
                     bytes the value itself is the pointer ck_ring carries.
                     It moves less than rtl_msgring: no type, no size.
    ck_ring typed    the same message rtl_msgring carries (a 32-bit type,
                     a 32-bit size and the payload) stored by value
    ck_ring ptr      16 bytes only: pointers into a preallocated record
                     array, the consumer reading the record through them
    urcu wfcqueue    cds_wfcq_enqueue/__cds_wfcq_dequeue_blocking of
                     preallocated nodes (unbounded: its producer never waits)

  Runs are short and interleaved (one run of every queue per round), and
  there are as many rounds as the time budget allows.  Rates are the median
  over rounds; ratios are the median of the ratios within each round, so a
  slow spell of a shared machine divides out instead of landing on one
  queue.  BENCH_VERBOSE=1 prints every round on stderr.
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
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MESSAGES 1024U
#define SPIN_WAIT 1024
#define MIN_RUNS 7U
#define MAX_RUNS 41U
#define BUDGET_SECONDS 24.0
#define DEFAULT_MESSAGES 300000U
#define URCU_MAX_MESSAGES 1000000U

typedef enum {
  Q_MSGRING,
  Q_RING,
  Q_JACK,
  Q_CK,
  Q_CK_TYPED,
  Q_CK_PTR,
  Q_URCU,
  N_QUEUES
} QueueKind;

static const char* const queue_names[N_QUEUES] = {"rtl_msgring",
                                                  "rtl_ring",
                                                  "jack_ringbuffer",
                                                  "ck_ring",
                                                  "ck_ring typed",
                                                  "ck_ring ptr",
                                                  "urcu wfcqueue"};

// ck_ring's typed interface names the struct by its tag.
typedef struct Record16 {
  uint64_t seq;
  uint64_t check;
} Record16;

// What rtl_msgring carries, laid out as ck_ring would carry it.
typedef struct Typed16 {
  uint32_t type;
  uint32_t size;
  Record16 rec;
} Typed16;

typedef struct Typed8 {
  uint32_t type;
  uint32_t size;
  uint64_t seq;
} Typed8;

CK_RING_PROTOTYPE(rec16, Record16)
CK_RING_PROTOTYPE(typed16, Typed16)
CK_RING_PROTOTYPE(typed8, Typed8)

typedef struct {
  struct cds_wfcq_node node;
  Record16             rec;
} UrcuNode;

/*
  Each queue's state sits on cache lines of its own, apart from what both
  threads read (the parameters), so no queue pays for another's layout.
*/
typedef struct {
  alignas(128) QueueKind kind;
  size_t      payload; // 8 or 16
  uint64_t    n;
  _Atomic int go;

  RtlMsgRing*        msgring;
  RtlRing*           ring;
  jack_ringbuffer_t* jack;
  void*              ck_buffer;
  Record16*          records;
  UrcuNode*          urcu_nodes;

  alignas(128) ck_ring_t ck;
  alignas(128) struct __cds_wfcq_head urcu_head;
  alignas(128) struct cds_wfcq_tail urcu_tail;
  alignas(128) uint64_t errors;
} Bench;

static int cpu_producer = -1;
static int cpu_consumer = -1;

/*
  What a side does when the queue is full or empty, the same for every
  queue: wait a moment (about a cache line's trip between cores) before
  looking again, rather than hammering the line the other side is about to
  write.  A plain loop, not PAUSE: under KVM a run of PAUSEs makes the host
  deschedule the virtual CPU (pause-loop exiting), which would measure the
  hypervisor rather than the queue.
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
  const uint64_t n       = b->n;
  const size_t   payload = b->payload;
  switch (b->kind) {
  case Q_MSGRING: {
    RtlMsgRing* const q = b->msgring;
    for (uint64_t i = 0U; i < n; ++i) {
      const Record16 r = {i, check_of(i)};
      while (rtl_msgring_send(q, 1U, &r, (uint32_t)payload)) {
        relax();
      }
    }
    break;
  }
  case Q_RING: {
    RtlRing* const q = b->ring;
    for (uint64_t i = 0U; i < n; ++i) {
      const Record16 r = {i, check_of(i)};
      while (!rtl_ring_write(q, &r, payload)) {
        relax();
      }
    }
    break;
  }
  case Q_JACK: {
    jack_ringbuffer_t* const q = b->jack;
    for (uint64_t i = 0U; i < n; ++i) {
      const Record16 r = {i, check_of(i)};
      while (jack_ringbuffer_write_space(q) < payload) {
        relax();
      }
      jack_ringbuffer_write(q, (const char*)&r, payload);
    }
    break;
  }
  case Q_CK:
    if (payload == 16U) {
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
  case Q_CK_TYPED:
    if (payload == 16U) {
      Typed16* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        Typed16 m = {1U, 16U, {i, check_of(i)}};
        while (!ck_ring_enqueue_spsc_typed16(&b->ck, buf, &m)) {
          relax();
        }
      }
    } else {
      Typed8* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        Typed8 m = {1U, 8U, i};
        while (!ck_ring_enqueue_spsc_typed8(&b->ck, buf, &m)) {
          relax();
        }
      }
    }
    break;
  case Q_CK_PTR: {
    // Twice as many records as the ring holds: when message i goes in,
    // the consumer has taken message i - 1023 and so has finished reading
    // record i - 2048, the one being reused.
    ck_ring_buffer_t* const buf = b->ck_buffer;
    Record16* const         rec = b->records;
    for (uint64_t i = 0U; i < n; ++i) {
      Record16* const r = &rec[i & (2U * QUEUE_MESSAGES - 1U)];
      r->seq            = i;
      r->check          = check_of(i);
      while (!ck_ring_enqueue_spsc(&b->ck, buf, r)) {
        relax();
      }
    }
    break;
  }
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
  const uint64_t n       = b->n;
  const size_t   payload = b->payload;
  uint64_t       errors  = 0U;
  switch (b->kind) {
  case Q_MSGRING: {
    RtlMsgRing* const q = b->msgring;
    for (uint64_t i = 0U; i < n; ++i) {
      RtlMsgHeader h;
      Record16     r;
      while (rtl_msgring_recv(q, &h, &r, sizeof(r))) {
        relax();
      }
      errors += verify(&r, i, payload) | (h.size != payload);
    }
    break;
  }
  case Q_RING: {
    RtlRing* const q = b->ring;
    for (uint64_t i = 0U; i < n; ++i) {
      Record16 r;
      while (!rtl_ring_read(q, &r, payload)) {
        relax();
      }
      errors += verify(&r, i, payload);
    }
    break;
  }
  case Q_JACK: {
    jack_ringbuffer_t* const q = b->jack;
    for (uint64_t i = 0U; i < n; ++i) {
      Record16 r;
      while (jack_ringbuffer_read_space(q) < payload) {
        relax();
      }
      jack_ringbuffer_read(q, (char*)&r, payload);
      errors += verify(&r, i, payload);
    }
    break;
  }
  case Q_CK:
    if (payload == 16U) {
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
  case Q_CK_TYPED:
    if (payload == 16U) {
      Typed16* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        Typed16 m;
        while (!ck_ring_dequeue_spsc_typed16(&b->ck, buf, &m)) {
          relax();
        }
        errors += verify(&m.rec, i, 16U) | (m.size != 16U);
      }
    } else {
      Typed8* const buf = b->ck_buffer;
      for (uint64_t i = 0U; i < n; ++i) {
        Typed8 m;
        while (!ck_ring_dequeue_spsc_typed8(&b->ck, buf, &m)) {
          relax();
        }
        errors += (m.seq != i) | (m.size != 8U);
      }
    }
    break;
  case Q_CK_PTR: {
    ck_ring_buffer_t* const buf = b->ck_buffer;
    for (uint64_t i = 0U; i < n; ++i) {
      void* v = NULL;
      while (!ck_ring_dequeue_spsc(&b->ck, buf, &v)) {
        relax();
      }
      errors += verify((const Record16*)v, i, 16U);
    }
    break;
  }
  case Q_URCU:
    for (uint64_t i = 0U; i < n; ++i) {
      struct cds_wfcq_node* node = NULL;
      while (
        !(node = __cds_wfcq_dequeue_blocking(&b->urcu_head, &b->urcu_tail))) {
        relax();
      }
      const UrcuNode* const u = caa_container_of(node, UrcuNode, node);
      errors += verify(&u->rec, i, payload);
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
  case Q_CK:
  case Q_CK_TYPED:
  case Q_CK_PTR: {
    size_t slot = sizeof(ck_ring_buffer_t);
    if (b->kind == Q_CK_TYPED) {
      slot = b->payload == 16U ? sizeof(Typed16) : sizeof(Typed8);
    } else if (b->kind == Q_CK && b->payload == 16U) {
      slot = sizeof(Record16);
    }
    const size_t size = QUEUE_MESSAGES * slot;
    ck_ring_init(&b->ck, QUEUE_MESSAGES);
    if (!(b->ck_buffer = aligned_alloc(128U, size))) {
      return 1;
    }
    memset(b->ck_buffer, 0, size);
    if (b->kind == Q_CK_PTR) {
      const size_t rsize = 2U * QUEUE_MESSAGES * sizeof(Record16);
      if (!(b->records = aligned_alloc(128U, rsize))) {
        return 1;
      }
      memset(b->records, 0, rsize);
    }
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
  free(b->records);
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
  Bench* const b = aligned_alloc(128U, sizeof(Bench));
  if (!b) {
    return -1.0;
  }
  memset(b, 0, sizeof(*b));
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
        const struct timespec settle = {0, 1000000};
        nanosleep(&settle, NULL);
        const double t0 = now();
        atomic_store_explicit(&b->go, 1, memory_order_release);
        pthread_join(prod, NULL);
        pthread_join(cons, NULL);
        const double t1 = now();
        rate            = b->errors ? -2.0 : (double)n / (t1 - t0);
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

static double
median(double* const values, const unsigned n)
{
  qsort(values, n, sizeof(double), cmp_double);
  return n % 2U ? values[n / 2U] : 0.5 * (values[n / 2U - 1U] + values[n / 2U]);
}

/// Median over rounds of a[i] / b[i].
static double
paired_ratio(const double* const a, const double* const b, const unsigned n)
{
  double r[MAX_RUNS];
  for (unsigned i = 0U; i < n; ++i) {
    r[i] = a[i] / b[i];
  }
  return median(r, n);
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
  printf("SPSC throughput: %llu messages per run, queues of %u messages, "
         "producer on cpu %d, consumer on cpu %d\n",
         (unsigned long long)n,
         QUEUE_MESSAGES,
         cpu_producer,
         cpu_consumer);

  static const size_t payloads[2] = {16U, 8U};
  int                 failed      = 0;
  for (size_t p = 0U; p < 2U; ++p) {
    double       rates[N_QUEUES][MAX_RUNS];
    unsigned     n_runs = 0U;
    const double start  = now();
    while (n_runs < MAX_RUNS &&
           (n_runs < MIN_RUNS || now() - start < BUDGET_SECONDS / 2.0)) {
      for (unsigned q = 0U; q < N_QUEUES; ++q) {
        if (q == Q_CK_PTR && payloads[p] != 16U) {
          rates[q][n_runs] = 0.0; // the 8-byte value is the pointer: as Q_CK
          continue;
        }
        const double rate =
          run_once((QueueKind)q, payloads[p], q == Q_URCU ? n_urcu : n);
        if (rate < 0.0) {
          fprintf(stderr,
                  "%s, %zu-byte payload: %s\n",
                  queue_names[q],
                  payloads[p],
                  rate < -1.5 ? "messages lost, duplicated or corrupted"
                              : "setup failed");
          failed = 1;
        }
        rates[q][n_runs] = rate;
      }
      if (verbose) {
        fprintf(stderr, "%zu B round %2u:", payloads[p], n_runs);
        for (unsigned q = 0U; q < N_QUEUES; ++q) {
          fprintf(stderr, " %7.1f", rates[q][n_runs] * 1e-6);
        }
        fprintf(stderr, "\n");
      }
      ++n_runs;
    }
    if (failed) {
      return 1;
    }

    const int           has_ptr = payloads[p] == 16U;
    const double* const msg     = rates[Q_MSGRING];
    const double        r_ck    = paired_ratio(msg, rates[Q_CK], n_runs);
    const double        r_typed = paired_ratio(msg, rates[Q_CK_TYPED], n_runs);
    const double        r_ptr =
      has_ptr ? paired_ratio(msg, rates[Q_CK_PTR], n_runs) : 0.0;
    const double r_jack = paired_ratio(msg, rates[Q_JACK], n_runs);
    const double b_ck   = paired_ratio(rates[Q_RING], rates[Q_CK], n_runs);
    const double b_jack = paired_ratio(rates[Q_RING], rates[Q_JACK], n_runs);

    printf("\n%2zu-byte messages, %2u rounds   Mmsg/s median   best\n",
           payloads[p],
           n_runs);
    for (unsigned q = 0U; q < N_QUEUES; ++q) {
      if (q == Q_CK_PTR && !has_ptr) {
        continue;
      }
      const double med = median(rates[q], n_runs); // sorts
      printf("  %-16s %20.1f %7.1f\n",
             queue_names[q],
             med * 1e-6,
             rates[q][n_runs - 1U] * 1e-6);
    }
    printf(
      "  rtl_msgring / ck_ring %.2fx, / ck_ring typed %.2fx", r_ck, r_typed);
    if (has_ptr) {
      printf(", / ck_ring ptr %.2fx", r_ptr);
    }
    printf(", / jack %.2fx\n", r_jack);
    printf("  rtl_ring    / ck_ring %.2fx, / jack %.2fx\n", b_ck, b_jack);
  }
  printf("\n(ratios: median over rounds of the ratio within each round)\n");
  return 0;
}
