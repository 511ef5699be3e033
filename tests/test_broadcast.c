// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// The broadcast ring's promise is exact accounting: every frame the writer
// produced is, for each reader, either read once, in order and untorn, or
// reported lost once.  Frames here carry their own absolute position so that
// every read can be checked against that promise.

#define _POSIX_C_SOURCE 200809L

#include "support/failing_allocator.h"
#include "support/stress.h"

#include <rtlane/broadcast.h>

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

Suite*
rtl_suite_broadcast(void);

enum { CH = 2 };

// Both halves are below 2^24, so both convert to float and back exactly.
static float
enc0(const uint64_t pos)
{
  return (float)(pos & 0xFFFFFU);
}

static float
enc1(const uint64_t pos)
{
  return (float)(pos >> 20U);
}

static uint64_t
dec(const float* const frame)
{
  return ((uint64_t)frame[1] << 20U) | (uint64_t)frame[0];
}

static void
fill(float* const buf, const uint64_t pos0, const size_t n)
{
  for (size_t i = 0U; i < n; ++i) {
    buf[i * CH]      = enc0(pos0 + i);
    buf[i * CH + 1U] = enc1(pos0 + i);
  }
}

/// Write `n` frames starting at the ring's position, in chunks of `chunk`.
static void
write_positions(RtlBroadcast* const ring, const size_t n, const size_t chunk)
{
  float buf[256 * CH];
  ck_assert_uint_le(chunk, 256U);
  for (size_t done = 0U; done < n;) {
    const size_t k = n - done < chunk ? n - done : chunk;
    fill(buf, rtl_broadcast_position(ring), k);
    rtl_broadcast_write(ring, buf, k);
    done += k;
  }
}

/// Index of the first frame in `buf` that is not `pos0 + i`, or `n`.
static size_t
first_mismatch(const float* const buf, const uint64_t pos0, const size_t n)
{
  for (size_t i = 0U; i < n; ++i) {
    if (buf[i * CH] != enc0(pos0 + i) || buf[i * CH + 1U] != enc1(pos0 + i)) {
      return i;
    }
  }
  return n;
}

// --- core ----------------------------------------------------------------

START_TEST(test_new_validates)
{
  RtlBroadcast* ring = (RtlBroadcast*)&ring; // must be reset on failure

  ck_assert_int_eq(rtl_broadcast_new(NULL, 16U, 2U, NULL), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_broadcast_new(NULL, 16U, 0U, &ring), RTL_BAD_ARG);
  ck_assert_ptr_null(ring);
  const size_t bad[] = {0U, 3U, 6U, 1000U, 4097U};
  for (size_t i = 0U; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    ring = (RtlBroadcast*)&ring;
    ck_assert_int_eq(rtl_broadcast_new(NULL, bad[i], 2U, &ring), RTL_NOT_POW2);
    ck_assert_ptr_null(ring);
  }
  ck_assert_int_eq(rtl_broadcast_new(NULL, (SIZE_MAX >> 1U) + 1U, 4U, &ring),
                   RTL_TOO_BIG);
  ck_assert_ptr_null(ring);

  ck_assert_int_eq(rtl_broadcast_new(NULL, 1U, 1U, &ring), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_broadcast_capacity(ring), 1U);
  ck_assert_uint_eq(rtl_broadcast_channels(ring), 1U);
  rtl_broadcast_free(ring);

  ck_assert_int_eq(rtl_broadcast_new(NULL, 512U, 6U, &ring), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_broadcast_capacity(ring), 512U);
  ck_assert_uint_eq(rtl_broadcast_channels(ring), 6U);
  ck_assert_uint_eq(rtl_broadcast_position(ring), 0U);

  RtlBroadcastReader* reader = (RtlBroadcastReader*)&reader;
  ck_assert_int_eq(rtl_broadcast_reader_new(NULL, NULL, &reader), RTL_BAD_ARG);
  ck_assert_ptr_null(reader);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, NULL), RTL_BAD_ARG);

  rtl_broadcast_free(ring);
  rtl_broadcast_free(NULL);
  rtl_broadcast_reader_free(NULL);
}
END_TEST

START_TEST(test_empty_read)
{
  RtlBroadcast*       ring   = NULL;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, 64U, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &reader), RTL_SUCCESS);

  float    buf[64 * CH];
  uint64_t lost = 99U;
  ck_assert_uint_eq(rtl_broadcast_reader_available(reader), 0U);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 64U, &lost), 0U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 64U, NULL), 0U);
  ck_assert_uint_eq(rtl_broadcast_reader_position(reader), 0U);
  ck_assert_uint_eq(rtl_broadcast_reader_lost(reader), 0U);

  // Writing nothing publishes nothing.
  rtl_broadcast_write(ring, buf, 0U);
  ck_assert_uint_eq(rtl_broadcast_position(ring), 0U);

  // Once drained, the reader is empty again.
  write_positions(ring, 10U, 3U);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 64U, &lost), 10U);
  ck_assert_uint_eq(first_mismatch(buf, 0U, 10U), 10U);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 64U, &lost), 0U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(rtl_broadcast_reader_available(reader), 0U);

  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(ring);
}
END_TEST

START_TEST(test_exact_capacity_no_loss)
{
  enum { CAP = 128 };
  RtlBroadcast*       ring   = NULL;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, CAP, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &reader), RTL_SUCCESS);

  float    buf[CAP * CH];
  uint64_t lost = 99U;
  uint64_t next = 0U;
  // Several laps, each filling the ring exactly before it is drained in
  // odd-sized reads that straddle the wrap at different offsets.
  for (int lap = 0; lap < 5; ++lap) {
    write_positions(ring, CAP, 13U + (size_t)lap);
    ck_assert_uint_eq(rtl_broadcast_reader_available(reader), CAP);
    size_t got = 0U;
    while (got < CAP) {
      const size_t n = rtl_broadcast_read(reader, buf, 7U, &lost);
      ck_assert_uint_eq(lost, 0U);
      ck_assert_uint_eq(n, CAP - got < 7U ? CAP - got : 7U);
      ck_assert_uint_eq(first_mismatch(buf, next, n), n);
      next += n;
      got += n;
    }
    ck_assert_uint_eq(rtl_broadcast_reader_position(reader), next);
    // Leave the ring half full so the next lap's reads wrap mid-read.
    write_positions(ring, 3U, 3U);
    ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), 3U);
    ck_assert_uint_eq(first_mismatch(buf, next, 3U), 3U);
    next += 3U;
  }
  ck_assert_uint_eq(rtl_broadcast_reader_lost(reader), 0U);
  ck_assert_uint_eq(rtl_broadcast_position(ring), next);

  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(ring);
}
END_TEST

START_TEST(test_planar_write)
{
  enum { CAP = 64, N = 40 };
  RtlBroadcast*       ring   = NULL;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, CAP, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &reader), RTL_SUCCESS);

  float        left[3 * CAP];
  float        right[3 * CAP];
  const float* planes[CH] = {left, right};
  float        buf[CAP * CH];
  uint64_t     lost = 99U;

  // Two planar writes of N: the second wraps around the end of the ring.
  for (uint64_t base = 0U; base < 2U * N; base += N) {
    for (size_t i = 0U; i < N; ++i) {
      left[i]  = enc0(base + i);
      right[i] = enc1(base + i);
    }
    rtl_broadcast_write_planar(ring, planes, N);
    ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), N);
    ck_assert_uint_eq(lost, 0U);
    ck_assert_uint_eq(first_mismatch(buf, base, N), N);
  }

  // A planar write longer than the ring keeps its last CAP frames.
  const uint64_t base = 2U * N;
  for (size_t i = 0U; i < 3U * CAP; ++i) {
    left[i]  = enc0(base + i);
    right[i] = enc1(base + i);
  }
  rtl_broadcast_write_planar(ring, planes, 3U * CAP);
  rtl_broadcast_write_planar(ring, planes, 0U);
  ck_assert_uint_eq(rtl_broadcast_position(ring), base + 3U * CAP);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), CAP);
  ck_assert_uint_eq(lost, 2U * CAP);
  ck_assert_uint_eq(first_mismatch(buf, base + 2U * CAP, CAP), CAP);

  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(ring);
}
END_TEST

START_TEST(test_reader_mid_stream)
{
  enum { CAP = 64 };
  RtlBroadcast*       ring  = NULL;
  RtlBroadcastReader* early = NULL;
  RtlBroadcastReader* late  = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, CAP, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &early), RTL_SUCCESS);

  write_positions(ring, 50U, 9U);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &late), RTL_SUCCESS);
  // The late reader starts where the writer is, not at what is still stored.
  ck_assert_uint_eq(rtl_broadcast_reader_position(late), 50U);
  ck_assert_uint_eq(rtl_broadcast_reader_available(late), 0U);
  ck_assert_uint_eq(rtl_broadcast_reader_available(early), 50U);

  write_positions(ring, 5U, 5U);
  float    buf[CAP * CH];
  uint64_t lost = 99U;
  ck_assert_uint_eq(rtl_broadcast_read(late, buf, CAP, &lost), 5U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(first_mismatch(buf, 50U, 5U), 5U);

  // Readers are independent: the early one still has everything.
  ck_assert_uint_eq(rtl_broadcast_read(early, buf, CAP, &lost), 55U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(first_mismatch(buf, 0U, 55U), 55U);

  // More than a lap later the late reader loses exactly the overflow; the
  // early one has not read yet, so it has lost nothing until it does.
  write_positions(ring, CAP + 10U, 32U);
  ck_assert_uint_eq(rtl_broadcast_read(late, buf, CAP, &lost), CAP);
  ck_assert_uint_eq(lost, 10U);
  ck_assert_uint_eq(first_mismatch(buf, 65U, CAP), CAP);
  ck_assert_uint_eq(rtl_broadcast_reader_lost(late), 10U);
  ck_assert_uint_eq(rtl_broadcast_reader_lost(early), 0U);
  ck_assert_uint_eq(rtl_broadcast_read(early, buf, 8U, &lost), 8U);
  ck_assert_uint_eq(lost, 10U);
  ck_assert_uint_eq(first_mismatch(buf, 65U, 8U), 8U);
  ck_assert_uint_eq(rtl_broadcast_reader_lost(early), 10U);

  rtl_broadcast_reader_free(late);
  rtl_broadcast_reader_free(early);
  rtl_broadcast_free(ring);
}
END_TEST

START_TEST(test_lock_memory)
{
  RtlBroadcast*       ring   = NULL;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, 256U, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &reader), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_lock_memory(NULL), RTL_BAD_ARG);

  // mlock may be refused by RLIMIT_MEMLOCK; either way nothing may change.
  const RtlStatus st = rtl_broadcast_lock_memory(ring);
  ck_assert(st == RTL_SUCCESS || st == RTL_SYSTEM_ERROR);
  ck_assert_uint_eq(rtl_broadcast_position(ring), 0U);
  ck_assert_uint_eq(rtl_broadcast_reader_available(reader), 0U);

  write_positions(ring, 100U, 100U);
  float    buf[256 * CH];
  uint64_t lost = 99U;
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 256U, &lost), 100U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(first_mismatch(buf, 0U, 100U), 100U);

  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(ring);
}
END_TEST

// --- limits --------------------------------------------------------------

START_TEST(test_capacity_plus_one_loses_one)
{
  enum { CAP = 32 };
  RtlBroadcast*       ring   = NULL;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, CAP, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &reader), RTL_SUCCESS);

  write_positions(ring, CAP + 1U, 5U);
  ck_assert_uint_eq(rtl_broadcast_reader_available(reader), CAP + 1U);

  float    buf[CAP * CH];
  uint64_t lost = 99U;
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), CAP);
  ck_assert_uint_eq(lost, 1U);
  ck_assert_uint_eq(first_mismatch(buf, 1U, CAP), CAP);
  ck_assert_uint_eq(rtl_broadcast_reader_lost(reader), 1U);
  ck_assert_uint_eq(rtl_broadcast_reader_position(reader), CAP + 1U);

  // The loss is reported once, not again on the next read.
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), 0U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(rtl_broadcast_reader_lost(reader), 1U);

  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(ring);
}
END_TEST

START_TEST(test_many_times_capacity)
{
  enum { CAP = 64 };
  RtlBroadcast*       ring   = NULL;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, CAP, CH, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, NULL, &reader), RTL_SUCCESS);

  float    buf[CAP * CH];
  uint64_t lost = 99U;

  // Ten laps and a bit, in small writes: everything but the last lap is lost.
  write_positions(ring, 10U * CAP + 3U, 5U);
  // Read in pieces: the loss is reported by the first read only.
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 20U, &lost), 20U);
  ck_assert_uint_eq(lost, 9U * CAP + 3U);
  ck_assert_uint_eq(first_mismatch(buf, 9U * CAP + 3U, 20U), 20U);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), CAP - 20U);
  ck_assert_uint_eq(lost, 0U);
  ck_assert_uint_eq(first_mismatch(buf, 9U * CAP + 23U, CAP - 20U), CAP - 20U);
  uint64_t total = 9U * CAP + 3U;
  ck_assert_uint_eq(rtl_broadcast_reader_lost(reader), total);

  // One write longer than the ring: only its last CAP frames exist.
  {
    static float   big[5 * CAP * CH];
    const uint64_t base = rtl_broadcast_position(ring);
    fill(big, base, 5U * CAP);
    rtl_broadcast_write(ring, big, 5U * CAP);
    ck_assert_uint_eq(rtl_broadcast_position(ring), base + 5U * CAP);
    ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), CAP);
    ck_assert_uint_eq(lost, 4U * CAP);
    ck_assert_uint_eq(first_mismatch(buf, base + 4U * CAP, CAP), CAP);
    total += 4U * CAP;
  }

  // A zero-sized read still notices and reports the loss, exactly once.
  write_positions(ring, CAP + 7U, 30U);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, 0U, &lost), 0U);
  ck_assert_uint_eq(lost, 7U);
  total += 7U;
  ck_assert_uint_eq(rtl_broadcast_reader_available(reader), CAP);
  ck_assert_uint_eq(rtl_broadcast_read(reader, buf, CAP, &lost), CAP);
  ck_assert_uint_eq(lost, 0U);

  ck_assert_uint_eq(rtl_broadcast_reader_lost(reader), total);
  // Every frame is either read or lost, exactly once.
  ck_assert_uint_eq(rtl_broadcast_reader_position(reader),
                    rtl_broadcast_position(ring));
  ck_assert_uint_eq(total + 3U * CAP, rtl_broadcast_position(ring));

  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(ring);
}
END_TEST

START_TEST(test_failing_allocator)
{
  RtlFailingAllocator a    = rtl_failing_allocator();
  RtlBroadcast*       ring = NULL;
  ck_assert_int_eq(rtl_broadcast_new(&a.base, 256U, CH, &ring), RTL_SUCCESS);
  const size_t n_ring = a.n_allocations;
  ck_assert_uint_ge(n_ring, 2U); // header and samples
  rtl_broadcast_free(ring);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n_ring; ++i) {
    a.n_remaining = i;
    ring          = (RtlBroadcast*)&ring;
    ck_assert_int_eq(rtl_broadcast_new(&a.base, 256U, CH, &ring), RTL_NO_MEM);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_live, 0U);
  }

  a.n_remaining = SIZE_MAX;
  ck_assert_int_eq(rtl_broadcast_new(NULL, 256U, CH, &ring), RTL_SUCCESS);
  a.n_allocations            = 0U;
  RtlBroadcastReader* reader = NULL;
  ck_assert_int_eq(rtl_broadcast_reader_new(ring, &a.base, &reader),
                   RTL_SUCCESS);
  const size_t n_reader = a.n_allocations;
  ck_assert_uint_ge(n_reader, 1U);
  rtl_broadcast_reader_free(reader);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n_reader; ++i) {
    a.n_remaining = i;
    reader        = (RtlBroadcastReader*)&reader;
    ck_assert_int_eq(rtl_broadcast_reader_new(ring, &a.base, &reader),
                     RTL_NO_MEM);
    ck_assert_ptr_null(reader);
    ck_assert_uint_eq(a.n_live, 0U);
  }
  rtl_broadcast_free(ring);
}
END_TEST

// --- threads -------------------------------------------------------------

enum {
  STRESS_CAP   = 4096,
  MAX_CHUNK    = 300,
  BIG_CHUNK    = STRESS_CAP + 904, // longer than the ring
  WRITER_BURST = 2048,             // frames between the writer's pauses
  N_READERS    = 3,
  MAX_READ     = 512,
};

typedef struct {
  RtlBroadcast*    ring;
  uint64_t         n_frames;
  _Atomic unsigned n_ready; // readers created, so none misses frame 0
  _Atomic bool     done;
} Shared;

typedef struct {
  Shared* shared;
  size_t  max_read;
  long    sleep_ns;
  // Results, read by the main thread after join.
  uint64_t start;
  uint64_t end;
  uint64_t frames_read;
  uint64_t lost;
  uint64_t n_reads;
  uint64_t n_readers; // for the churning thread
  char     error[256];
} ReaderArgs;

static void
pause_ns(const long ns)
{
  const struct timespec ts = {0, ns};
  nanosleep(&ts, NULL);
}

static void*
writer_main(void* const arg)
{
  Shared* const s = (Shared*)arg;
  static float  frames[BIG_CHUNK * CH];
  static float  left[BIG_CHUNK];
  static float  right[BIG_CHUNK];
  const float*  planes[CH] = {left, right};
  uint32_t      rng        = 12345U;
  uint64_t      pos        = 0U;
  uint64_t      burst      = 0U;
  while (atomic_load_explicit(&s->n_ready, memory_order_acquire) < N_READERS) {
    pause_ns(100000L);
  }
  for (uint64_t chunk = 0U; pos < s->n_frames; ++chunk) {
    rng      = rng * 1664525U + 1013904223U;
    size_t n = chunk % 997U == 996U ? (size_t)BIG_CHUNK
                                    : 1U + (size_t)((rng >> 8U) % MAX_CHUNK);
    if (n > s->n_frames - pos) {
      n = (size_t)(s->n_frames - pos);
    }
    if (chunk % 4U == 3U) {
      for (size_t i = 0U; i < n; ++i) {
        left[i]  = enc0(pos + i);
        right[i] = enc1(pos + i);
      }
      rtl_broadcast_write_planar(s->ring, planes, n);
    } else {
      fill(frames, pos, n);
      rtl_broadcast_write(s->ring, frames, n);
    }
    pos += n;
    burst += n;
    if (burst >= WRITER_BURST) {
      // Roughly the pace of a fast audio interface, so that the fast reader
      // mostly keeps up and the slow ones fall behind by different amounts.
      burst = 0U;
      pause_ns(20000L);
    }
  }
  atomic_store_explicit(&s->done, true, memory_order_release);
  return NULL;
}

/*
  Read until the writer has finished and this reader has caught up, checking
  every read against the accounting promise.  Returns false (with a message
  in args->error) at the first violation.
*/
static bool
follow(ReaderArgs* const         args,
       RtlBroadcastReader* const reader,
       float* const              buf,
       const uint64_t            max_reads)
{
  Shared* const s        = args->shared;
  uint64_t      expected = rtl_broadcast_reader_position(reader);
  uint64_t      lost_sum = 0U;
  for (uint64_t r = 0U; r < max_reads; ++r) {
    const bool     done = atomic_load_explicit(&s->done, memory_order_acquire);
    uint64_t       lost = UINT64_MAX;
    const size_t   n  = rtl_broadcast_read(reader, buf, args->max_read, &lost);
    const uint64_t at = expected + lost;
    ++args->n_reads;
    if (n > args->max_read || lost == UINT64_MAX) {
      snprintf(
        args->error, sizeof(args->error), "read %zu of %zu", n, args->max_read);
      return false;
    }
    if (n) {
      const uint64_t first = dec(buf);
      if (first != at) {
        snprintf(args->error,
                 sizeof(args->error),
                 "first frame %llu, expected %llu + lost %llu",
                 (unsigned long long)first,
                 (unsigned long long)expected,
                 (unsigned long long)lost);
        return false;
      }
      const size_t bad = first_mismatch(buf, at, n);
      if (bad != n) {
        snprintf(args->error,
                 sizeof(args->error),
                 "frame %zu of %zu torn or out of order: (%g, %g) at %llu",
                 bad,
                 n,
                 (double)buf[bad * CH],
                 (double)buf[bad * CH + 1U],
                 (unsigned long long)(at + bad));
        return false;
      }
    }
    expected = at + n;
    args->frames_read += n;
    args->lost += lost;
    lost_sum += lost;
    if (rtl_broadcast_reader_position(reader) != expected ||
        rtl_broadcast_reader_lost(reader) != lost_sum) {
      snprintf(
        args->error, sizeof(args->error), "position or loss total drifted");
      return false;
    }
    if (done && expected == rtl_broadcast_position(s->ring)) {
      break;
    }
    if (args->sleep_ns) {
      pause_ns(args->sleep_ns);
    }
  }
  args->end = expected;
  return true;
}

static void*
reader_main(void* const arg)
{
  ReaderArgs* const          args   = (ReaderArgs*)arg;
  RtlBroadcastReader*        reader = NULL;
  static _Thread_local float buf[MAX_READ * CH];
  if (rtl_broadcast_reader_new(args->shared->ring, NULL, &reader)) {
    snprintf(args->error, sizeof(args->error), "reader_new failed");
    atomic_fetch_add_explicit(&args->shared->n_ready, 1U, memory_order_release);
    return NULL;
  }
  args->start = rtl_broadcast_reader_position(reader);
  atomic_fetch_add_explicit(&args->shared->n_ready, 1U, memory_order_release);
  (void)follow(args, reader, buf, UINT64_MAX);
  rtl_broadcast_reader_free(reader);
  return NULL;
}

/// Create, use and free short-lived readers while the writer runs.
static void*
churn_main(void* const arg)
{
  ReaderArgs* const          args = (ReaderArgs*)arg;
  static _Thread_local float buf[MAX_READ * CH];
  while (!atomic_load_explicit(&args->shared->done, memory_order_acquire)) {
    RtlBroadcastReader* reader = NULL;
    const uint64_t      before = rtl_broadcast_position(args->shared->ring);
    if (rtl_broadcast_reader_new(args->shared->ring, NULL, &reader)) {
      snprintf(args->error, sizeof(args->error), "reader_new failed");
      return NULL;
    }
    const uint64_t start = rtl_broadcast_reader_position(reader);
    const uint64_t after = rtl_broadcast_position(args->shared->ring);
    if (start < before || start > after) {
      snprintf(args->error,
               sizeof(args->error),
               "reader started at %llu, writer was between %llu and %llu",
               (unsigned long long)start,
               (unsigned long long)before,
               (unsigned long long)after);
      rtl_broadcast_reader_free(reader);
      return NULL;
    }
    const bool ok = follow(args, reader, buf, 8U);
    rtl_broadcast_reader_free(reader);
    ++args->n_readers;
    if (!ok) {
      return NULL;
    }
  }
  return NULL;
}

START_TEST(test_one_writer_three_readers)
{
  Shared s = {NULL, rtl_stress_count(20000000U), 0U, false};
  ck_assert_int_eq(rtl_broadcast_new(NULL, STRESS_CAP, CH, &s.ring),
                   RTL_SUCCESS);

  // One that keeps up, one that sleeps and falls behind now and then, and
  // one so slow (16 frames per 2 ms at most) that it loses most frames.
  ReaderArgs args[N_READERS + 1] = {
    {&s, MAX_READ, 0L, 0U, 0U, 0U, 0U, 0U, 0U, ""},
    {&s, 256U, 100000L, 0U, 0U, 0U, 0U, 0U, 0U, ""},
    {&s, 16U, 2000000L, 0U, 0U, 0U, 0U, 0U, 0U, ""},
    {&s, 64U, 50000L, 0U, 0U, 0U, 0U, 0U, 0U, ""},
  };

  pthread_t readers[N_READERS];
  pthread_t churn;
  pthread_t writer;
  for (size_t i = 0U; i < N_READERS; ++i) {
    ck_assert_int_eq(pthread_create(&readers[i], NULL, reader_main, &args[i]),
                     0);
  }
  ck_assert_int_eq(pthread_create(&churn, NULL, churn_main, &args[N_READERS]),
                   0);
  ck_assert_int_eq(pthread_create(&writer, NULL, writer_main, &s), 0);

  ck_assert_int_eq(pthread_join(writer, NULL), 0);
  ck_assert_int_eq(pthread_join(churn, NULL), 0);
  for (size_t i = 0U; i < N_READERS; ++i) {
    ck_assert_int_eq(pthread_join(readers[i], NULL), 0);
  }

  ck_assert_uint_eq(rtl_broadcast_position(s.ring), s.n_frames);
  for (size_t i = 0U; i < N_READERS; ++i) {
    const ReaderArgs* const a = &args[i];
    ck_assert_msg(!a->error[0], "reader %zu: %s", i, a->error);
    ck_assert_uint_eq(a->start, 0U);
    ck_assert_uint_eq(a->end, s.n_frames);
    // Every frame accounted for exactly once.
    ck_assert_uint_eq(a->frames_read + a->lost, s.n_frames);
    // The ring still held the last STRESS_CAP frames when each caught up.
    ck_assert_uint_ge(a->frames_read,
                      STRESS_CAP < s.n_frames ? STRESS_CAP : s.n_frames);
  }
  // The very slow reader cannot read 16 frames per 2 ms and keep up with
  // even a tenth of the stream in any plausible time: it must have lost.
  ck_assert_uint_gt(args[2].lost, 0U);
  ck_assert_msg(!args[N_READERS].error[0], "churn: %s", args[N_READERS].error);
  ck_assert_uint_ge(args[N_READERS].n_readers, 1U);

  rtl_broadcast_free(s.ring);
}
END_TEST

Suite*
rtl_suite_broadcast(void)
{
  Suite* const s = suite_create("broadcast");

  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_new_validates);
  tcase_add_test(core, test_empty_read);
  tcase_add_test(core, test_exact_capacity_no_loss);
  tcase_add_test(core, test_planar_write);
  tcase_add_test(core, test_reader_mid_stream);
  tcase_add_test(core, test_lock_memory);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_add_test(limits, test_capacity_plus_one_loses_one);
  tcase_add_test(limits, test_many_times_capacity);
  tcase_add_test(limits, test_failing_allocator);
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_set_timeout(threads, 300);
  tcase_add_test(threads, test_one_writer_three_readers);
  suite_add_tcase(s, threads);

  return s;
}
