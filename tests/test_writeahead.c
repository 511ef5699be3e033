// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "support/failing_allocator.h"
#include "support/frames.h"
#include "support/stress.h"

#include <rtlane/status.h>
#include <rtlane/writeahead.h>

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

Suite*
rtl_suite_writeahead(void);

// Frames encode their writer index (see support/frames.h).
#define MAX_CH 4U
#define MAX_FRAMES 4096U

typedef struct {
  float        data[MAX_CH][MAX_FRAMES];
  float*       planes[MAX_CH];
  const float* cplanes[MAX_CH];
} Block;

static void
block_init(Block* const b)
{
  for (unsigned c = 0U; c < MAX_CH; ++c) {
    b->planes[c]  = b->data[c];
    b->cplanes[c] = b->data[c];
  }
}

/// Fill `n` frames with writer indices first, first + 1, ...
static void
block_fill(Block* const b, const uint64_t first, const size_t n)
{
  for (unsigned c = 0U; c < MAX_CH; ++c) {
    for (size_t i = 0U; i < n; ++i) {
      b->data[c][i] = encode(first + i, c);
    }
  }
}

/// Write writer indices [first, first + n), starting at frame `offset`.
static size_t
write_indices(RtlWriteAhead* const wa, const uint64_t first, const size_t n)
{
  static Block b;
  block_init(&b);
  block_fill(&b, first, n);
  return rtl_writeahead_write(wa, b.cplanes, n);
}

/// Read `n` frames and check each real one against its position.
typedef struct {
  Block    b;
  uint64_t pos;     // Position of the next frame read
  size_t   latency; // Expected k + L relation
  uint64_t silent;  // Silent frames seen (prefill, padding, underrun)
  uint64_t real;    // Writer frames seen
  int64_t  last;    // Last writer index seen
} Reader;

static void
reader_init(Reader* const rd, const size_t latency)
{
  memset(rd, 0, sizeof(*rd));
  block_init(&rd->b);
  rd->latency = latency;
  rd->last    = -1;
}

static size_t
read_checked(RtlWriteAhead* const wa, Reader* const rd, const size_t n)
{
  const unsigned ch = rtl_writeahead_channels(wa);
  for (unsigned c = 0U; c < ch; ++c) {
    for (size_t i = 0U; i < n; ++i) {
      rd->b.data[c][i] = -7.0f; // Must be overwritten
    }
  }
  const size_t got = rtl_writeahead_read(wa, rd->b.planes, n);
  ck_assert_uint_le(got, n);
  for (size_t i = 0U; i < n; ++i, ++rd->pos) {
    const int64_t k = decode((const float* const*)rd->b.planes, ch, i);
    ck_assert_int_ne(k, -2);
    if (k < 0) {
      ++rd->silent;
    } else {
      ck_assert_uint_lt(i, got);
      ck_assert_uint_eq(rd->pos, (uint64_t)k + rd->latency);
      ck_assert_int_gt(k, rd->last);
      rd->last = k;
      ++rd->real;
    }
  }
  return got;
}

static RtlWriteAhead*
make(const unsigned ch, const size_t capacity, const size_t latency)
{
  RtlWriteAhead* wa = NULL;
  ck_assert_int_eq(rtl_writeahead_new(NULL, ch, capacity, latency, &wa),
                   RTL_SUCCESS);
  ck_assert_ptr_nonnull(wa);
  return wa;
}

START_TEST(test_prefill)
{
  RtlWriteAhead* const wa = make(2U, 64U, 8U);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 8U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 8U);
  ck_assert_uint_eq(rtl_writeahead_write_space(wa), 56U);

  ck_assert_uint_eq(write_indices(wa, 0U, 4U), 4U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 12U);

  Reader rd;
  reader_init(&rd, 8U);
  // The prefill is in the buffer: real frames, but silent ones
  ck_assert_uint_eq(read_checked(wa, &rd, 8U), 8U);
  ck_assert_uint_eq(rd.silent, 8U);
  ck_assert_uint_eq(rd.real, 0U);
  // Then the first written frame, exactly at position L
  ck_assert_uint_eq(read_checked(wa, &rd, 1U), 1U);
  ck_assert_int_eq(rd.last, 0);
  ck_assert_uint_eq(read_checked(wa, &rd, 3U), 3U);
  ck_assert_int_eq(rd.last, 3);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.frames_written, 4U);
  ck_assert_uint_eq(s.frames_read, 12U);
  ck_assert_uint_eq(s.underruns, 0U);
  ck_assert_uint_eq(s.underrun_frames, 0U);
  ck_assert_uint_eq(s.dropped_frames, 0U);
  ck_assert_uint_eq(s.overruns, 0U);
  ck_assert_uint_eq(s.adjustments, 0U);
  ck_assert_uint_eq(s.latency, 8U);
  ck_assert_uint_eq(s.fill, 0U);
  ck_assert_uint_eq(s.capacity, 64U);
  ck_assert(s.utilisation == 0.0f);
  rtl_writeahead_free(wa);
}
END_TEST

/*
  For L = 0, 1 and capacity - 1, chunks of awkward sizes that wrap around
  the storage at every offset: every frame comes out at k + L, with the
  writer always kept ahead so there is no underrun.
*/
START_TEST(test_delay_exact)
{
  const size_t capacity    = 32U;
  const size_t latencies[] = {0U, 1U, capacity - 1U};
  for (size_t li = 0U; li < sizeof(latencies) / sizeof(latencies[0]); ++li) {
    const size_t         lat = latencies[li];
    RtlWriteAhead* const wa  = make(3U, capacity, lat);
    Reader               rd;
    reader_init(&rd, lat);

    uint64_t       next    = 0U;
    const uint64_t total   = 2000U;
    unsigned       step    = 0U;
    uint64_t       n_reads = 0U;
    while (rd.real < total) {
      const size_t want = 1U + (step * 7U) % 13U;
      if (next < total) {
        const size_t n = want < total - next ? want : (size_t)(total - next);
        next += write_indices(wa, next, n);
      }
      const size_t fill = rtl_writeahead_fill(wa);
      const size_t rn   = 1U + (step * 5U) % 11U;
      if (fill >= rn || (next == total && fill)) {
        const size_t n = rn < fill ? rn : fill;
        ck_assert_uint_eq(read_checked(wa, &rd, n), n);
        n_reads += n;
      }
      ++step;
    }
    ck_assert_uint_eq(rd.silent, lat);
    ck_assert_int_eq(rd.last, (int64_t)total - 1);

    RtlWriteAheadStats s;
    rtl_writeahead_stats(wa, &s);
    ck_assert_uint_eq(s.frames_written, total);
    ck_assert_uint_eq(s.frames_read, n_reads);
    ck_assert_uint_eq(s.frames_read, total + lat);
    ck_assert_uint_eq(s.underruns, 0U);
    ck_assert_uint_eq(s.dropped_frames, 0U);
    ck_assert_uint_eq(s.fill, 0U);
    rtl_writeahead_free(wa);
  }
}
END_TEST

/*
  Read past what was written: silence and the counters; then the writer's
  late frames are dropped and the next ones land exactly on k + L.  Run
  twice: with a capacity large enough that the writer does not reload R
  (it fills slots that will never be played, and the reader counts them),
  and small enough that it must (it skips them knowingly).
*/
START_TEST(test_underrun)
{
  const size_t capacities[] = {64U, 8U};
  for (size_t ci = 0U; ci < 2U; ++ci) {
    RtlWriteAhead* const wa = make(1U, capacities[ci], 4U);
    Reader               rd;
    reader_init(&rd, 4U);

    ck_assert_uint_eq(write_indices(wa, 0U, 4U), 4U);
    // positions 0-3 prefill, 4-7 indices 0-3, 8-11 silence
    ck_assert_uint_eq(read_checked(wa, &rd, 12U), 8U);
    ck_assert_uint_eq(rd.real, 4U);
    ck_assert_uint_eq(rd.silent, 8U);

    RtlWriteAheadStats s;
    rtl_writeahead_stats(wa, &s);
    ck_assert_uint_eq(s.underruns, 1U);
    ck_assert_uint_eq(s.underrun_frames, 4U);
    ck_assert_uint_eq(s.frames_read, 12U);
    ck_assert_uint_eq(s.dropped_frames, 0U);
    ck_assert_uint_eq(s.fill, 0U);

    // Indices 4-7 belong to positions 8-11, already played: dropped, but
    // consumed.  Indices 8 and 9 go to positions 12 and 13.
    ck_assert_uint_eq(write_indices(wa, 4U, 6U), 6U);
    rtl_writeahead_stats(wa, &s);
    ck_assert_uint_eq(s.frames_written, 10U);
    ck_assert_uint_eq(s.dropped_frames, 4U);
    ck_assert_uint_eq(s.fill, 2U);

    ck_assert_uint_eq(read_checked(wa, &rd, 2U), 2U);
    ck_assert_int_eq(rd.last, 9);
    ck_assert_uint_eq(rd.real, 6U);

    // Another underrun in the middle of a read, then the writer catches up
    ck_assert_uint_eq(write_indices(wa, 10U, 3U), 3U);
    ck_assert_uint_eq(read_checked(wa, &rd, 5U), 3U);
    ck_assert_uint_eq(write_indices(wa, 13U, 4U), 4U);
    ck_assert_uint_eq(read_checked(wa, &rd, 2U), 2U);
    ck_assert_int_eq(rd.last, 16);

    rtl_writeahead_stats(wa, &s);
    ck_assert_uint_eq(s.underruns, 2U);
    ck_assert_uint_eq(s.underrun_frames, 6U);
    ck_assert_uint_eq(s.frames_read, 21U);
    ck_assert_uint_eq(s.frames_written, 17U);
    ck_assert_uint_eq(s.dropped_frames, 6U);
    ck_assert_uint_eq(s.fill, 0U);
    // Accounting: every frame written was played or dropped
    ck_assert_uint_eq(s.frames_written, rd.real + s.dropped_frames + s.fill);
    rtl_writeahead_free(wa);
  }
}
END_TEST

/// A writer so late that the reader is a whole capacity past it.
START_TEST(test_underrun_far)
{
  RtlWriteAhead* const wa = make(2U, 16U, 2U);
  Reader               rd;
  reader_init(&rd, 2U);
  ck_assert_uint_eq(read_checked(wa, &rd, 40U), 2U);
  ck_assert_uint_eq(rtl_writeahead_write_space(wa), 38U + 16U);
  // Indices 0-37 are late; 38-49 land at 40-51
  ck_assert_uint_eq(write_indices(wa, 0U, 50U), 50U);
  ck_assert_uint_eq(read_checked(wa, &rd, 12U), 12U);
  ck_assert_uint_eq(rd.real, 12U);
  ck_assert_int_eq(rd.last, 49);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.dropped_frames, 38U);
  ck_assert_uint_eq(s.underrun_frames, 38U);
  ck_assert_uint_eq(s.frames_written, 50U);
  ck_assert_uint_eq(s.overruns, 0U);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_overrun)
{
  RtlWriteAhead* const wa = make(2U, 16U, 4U);
  Reader               rd;
  reader_init(&rd, 4U);

  ck_assert_uint_eq(write_indices(wa, 0U, 20U), 12U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 16U);
  ck_assert_uint_eq(rtl_writeahead_write_space(wa), 0U);
  ck_assert_uint_eq(write_indices(wa, 12U, 1U), 0U);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.overruns, 2U);
  ck_assert_uint_eq(s.frames_written, 12U);
  ck_assert_uint_eq(s.fill, 16U);
  ck_assert(s.utilisation == 1.0f);

  // The refused frames are written again once there is room: no gap
  ck_assert_uint_eq(read_checked(wa, &rd, 10U), 10U);
  ck_assert_uint_eq(rtl_writeahead_write_space(wa), 10U);
  ck_assert_uint_eq(write_indices(wa, 12U, 10U), 10U);
  ck_assert_uint_eq(read_checked(wa, &rd, 16U), 16U);
  ck_assert_int_eq(rd.last, 21);
  ck_assert_uint_eq(rd.real, 22U);

  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.overruns, 2U);
  ck_assert_uint_eq(s.underruns, 0U);
  ck_assert_uint_eq(s.dropped_frames, 0U);
  ck_assert_uint_eq(s.frames_written, 22U);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_latency_grow)
{
  RtlWriteAhead* const wa = make(2U, 64U, 4U);
  Reader               rd;
  reader_init(&rd, 4U);

  ck_assert_uint_eq(write_indices(wa, 0U, 10U), 10U);
  ck_assert_uint_eq(read_checked(wa, &rd, 6U), 6U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 10U), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 10U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 8U + 6U);
  // Same latency again: nothing to do, not an adjustment
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 10U), RTL_SUCCESS);
  ck_assert_uint_eq(write_indices(wa, 10U, 10U), 10U);

  // Indices 0-9 at k + 4, then 6 frames of silence, then k + 10
  ck_assert_uint_eq(read_checked(wa, &rd, 8U), 8U);
  ck_assert_int_eq(rd.last, 9);
  const uint64_t silent = rd.silent;
  ck_assert_uint_eq(read_checked(wa, &rd, 6U), 6U);
  ck_assert_uint_eq(rd.silent, silent + 6U);
  rd.latency = 10U;
  ck_assert_uint_eq(read_checked(wa, &rd, 10U), 10U);
  ck_assert_int_eq(rd.last, 19);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.adjustments, 1U);
  ck_assert_uint_eq(s.latency, 10U);
  ck_assert_uint_eq(s.underruns, 0U);
  ck_assert_uint_eq(s.dropped_frames, 0U);
  ck_assert_uint_eq(s.frames_written, 20U);

  // No room for the silence: RTL_FULL, and nothing changes
  ck_assert_uint_eq(write_indices(wa, 20U, 64U), 64U);
  ck_assert_uint_eq(rtl_writeahead_write_space(wa), 0U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 12U), RTL_FULL);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 10U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 64U);
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.adjustments, 1U);
  ck_assert_uint_eq(read_checked(wa, &rd, 64U), 64U);
  ck_assert_int_eq(rd.last, 83);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_latency_shrink)
{
  RtlWriteAhead* const wa = make(1U, 64U, 10U);
  Reader               rd;
  reader_init(&rd, 10U);

  ck_assert_uint_eq(write_indices(wa, 0U, 10U), 10U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 4U), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 4U);
  // The pending trim is room the writer has, as its frames are consumed
  ck_assert_uint_eq(rtl_writeahead_write_space(wa), 44U + 6U);

  // Indices 10-15 discarded, in two calls; 16 on follow at k + 4
  ck_assert_uint_eq(write_indices(wa, 10U, 2U), 2U);
  ck_assert_uint_eq(write_indices(wa, 12U, 14U), 14U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 30U);

  ck_assert_uint_eq(read_checked(wa, &rd, 20U), 20U);
  ck_assert_int_eq(rd.last, 9);
  rd.latency = 4U;
  ck_assert_uint_eq(read_checked(wa, &rd, 10U), 10U);
  ck_assert_int_eq(rd.last, 25);
  ck_assert_uint_eq(rd.real, 20U);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.adjustments, 1U);
  ck_assert_uint_eq(s.dropped_frames, 6U);
  ck_assert_uint_eq(s.frames_written, 26U);
  ck_assert_uint_eq(s.latency, 4U);
  ck_assert_uint_eq(s.underruns, 0U);
  ck_assert_uint_eq(s.frames_written, rd.real + s.dropped_frames + s.fill);
  rtl_writeahead_free(wa);
}
END_TEST

/// A grow that follows a shrink not yet spent takes the trim back first.
START_TEST(test_latency_shrink_then_grow)
{
  RtlWriteAhead* const wa = make(1U, 64U, 10U);
  Reader               rd;
  reader_init(&rd, 10U);

  ck_assert_uint_eq(write_indices(wa, 0U, 10U), 10U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 4U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 7U), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 7U);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 20U); // no silence added
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 12U), RTL_SUCCESS);
  ck_assert_uint_eq(rtl_writeahead_fill(wa), 22U); // 3 taken back, 2 added

  ck_assert_uint_eq(write_indices(wa, 10U, 10U), 10U);
  ck_assert_uint_eq(read_checked(wa, &rd, 20U), 20U);
  ck_assert_uint_eq(read_checked(wa, &rd, 2U), 2U);
  ck_assert_uint_eq(rd.silent, 12U);
  rd.latency = 12U;
  ck_assert_uint_eq(read_checked(wa, &rd, 10U), 10U);
  ck_assert_int_eq(rd.last, 19);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.adjustments, 3U);
  ck_assert_uint_eq(s.dropped_frames, 0U);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_reset)
{
  RtlWriteAhead* const wa = make(2U, 32U, 3U);
  Reader               rd;
  reader_init(&rd, 3U);
  ck_assert_uint_eq(write_indices(wa, 0U, 40U), 29U);
  ck_assert_uint_eq(read_checked(wa, &rd, 40U), 32U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 1U), RTL_SUCCESS);

  ck_assert_int_eq(rtl_writeahead_reset(wa, 32U), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_writeahead_reset(wa, 5U), RTL_SUCCESS);
  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.frames_written, 0U);
  ck_assert_uint_eq(s.frames_read, 0U);
  ck_assert_uint_eq(s.underruns, 0U);
  ck_assert_uint_eq(s.underrun_frames, 0U);
  ck_assert_uint_eq(s.dropped_frames, 0U);
  ck_assert_uint_eq(s.overruns, 0U);
  ck_assert_uint_eq(s.adjustments, 0U);
  ck_assert_uint_eq(s.latency, 5U);
  ck_assert_uint_eq(s.fill, 5U);

  // The storage held data: the new prefill must be silence all the same,
  // and the pending trim is gone
  reader_init(&rd, 5U);
  ck_assert_uint_eq(write_indices(wa, 0U, 4U), 4U);
  ck_assert_uint_eq(read_checked(wa, &rd, 9U), 9U);
  ck_assert_uint_eq(rd.silent, 5U);
  ck_assert_int_eq(rd.last, 3);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_accessors)
{
  RtlWriteAhead* const wa = make(3U, 128U, 17U);
  ck_assert_uint_eq(rtl_writeahead_channels(wa), 3U);
  ck_assert_uint_eq(rtl_writeahead_capacity(wa), 128U);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 17U);
  const RtlStatus st = rtl_writeahead_lock_memory(wa);
  ck_assert(st == RTL_SUCCESS || st == RTL_SYSTEM_ERROR);
  // Zero-length calls change nothing
  ck_assert_uint_eq(rtl_writeahead_write(wa, NULL, 0U), 0U);
  ck_assert_uint_eq(rtl_writeahead_read(wa, NULL, 0U), 0U);
  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.frames_read, 0U);
  ck_assert_uint_eq(s.underruns, 0U);
  ck_assert_uint_eq(s.fill, 17U);
  ck_assert(s.utilisation > 0.13f && s.utilisation < 0.14f);
  // The prefill still comes out first
  Reader rd;
  reader_init(&rd, 17U);
  ck_assert_uint_eq(write_indices(wa, 0U, 1U), 1U);
  ck_assert_uint_eq(read_checked(wa, &rd, 18U), 18U);
  ck_assert_int_eq(rd.last, 0);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_validation)
{
  RtlWriteAhead* wa = (RtlWriteAhead*)&wa; // Must be cleared on failure
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 0U, 0U, &wa), RTL_NOT_POW2);
  ck_assert_ptr_null(wa);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 3U, 0U, &wa), RTL_NOT_POW2);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 100U, 0U, &wa), RTL_NOT_POW2);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 0U, 64U, 0U, &wa), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 64U, 64U, &wa), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 64U, 1000U, &wa), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 64U, 0U, NULL), RTL_BAD_ARG);
  ck_assert_int_eq(
    rtl_writeahead_new(
      NULL, 1U, (size_t)1U << (sizeof(size_t) * 8U - 1U), 0U, &wa),
    RTL_TOO_BIG);
  ck_assert_ptr_null(wa);
  rtl_writeahead_free(NULL);

  // The smallest buffer: one frame, no delay
  wa = make(1U, 1U, 0U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 1U), RTL_BAD_ARG);
  Reader rd;
  reader_init(&rd, 0U);
  for (uint64_t k = 0U; k < 10U; ++k) {
    ck_assert_uint_eq(write_indices(wa, k, 2U), 1U);
    ck_assert_uint_eq(read_checked(wa, &rd, 1U), 1U);
  }
  ck_assert_int_eq(rd.last, 9);
  rtl_writeahead_free(wa);

  wa = make(2U, 64U, 63U);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 64U), RTL_BAD_ARG);
  ck_assert_int_eq(rtl_writeahead_set_latency(wa, 1000U), RTL_BAD_ARG);
  ck_assert_uint_eq(rtl_writeahead_latency(wa), 63U);
  RtlWriteAheadStats s;
  rtl_writeahead_stats(wa, &s);
  ck_assert_uint_eq(s.adjustments, 0U);
  rtl_writeahead_free(wa);
}
END_TEST

START_TEST(test_failing_allocator)
{
  RtlFailingAllocator a  = rtl_failing_allocator();
  RtlWriteAhead*      wa = NULL;
  ck_assert_int_eq(rtl_writeahead_new(&a.base, 2U, 256U, 32U, &wa),
                   RTL_SUCCESS);
  const size_t n = a.n_allocations;
  ck_assert_uint_ge(n, 1U);
  ck_assert_uint_eq(a.n_live, n);
  rtl_writeahead_free(wa);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n; ++i) {
    a                = rtl_failing_allocator();
    a.n_remaining    = i;
    RtlWriteAhead* b = (RtlWriteAhead*)&b;
    ck_assert_int_eq(rtl_writeahead_new(&a.base, 2U, 256U, 32U, &b),
                     RTL_NO_MEM);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(a.n_live, 0U);
  }
}
END_TEST

/*
  The threads: a writer with random chunk sizes and random short pauses, a
  reader with random period sizes that mostly waits for data but sometimes
  plays on regardless (an RT thread does not wait), and a third thread
  reading the counters.  Every frame the reader gets must be either a
  writer frame at exactly k + L or silence that the reader was told about
  (prefill, or the tail of a read counted as an underrun).  Failures are
  recorded, not asserted, off the main thread.
*/
#define ST_CAPACITY 4096U
#define ST_LATENCY 1000U
#define ST_CHANNELS 2U

typedef struct {
  RtlWriteAhead* wa;
  uint64_t       total;
  atomic_bool    writer_done;
  atomic_bool    reader_done;

  // Writer results
  uint64_t write_calls;

  // Reader results
  uint64_t n_read;
  uint64_t n_real;      // Returned as real by read()
  uint64_t n_writer;    // Writer frames among them
  uint64_t n_prefill;   // Prefill frames among them
  uint64_t n_underruns; // Reads that returned less than asked
  uint64_t errors;
  char     first_error[200];

  // Monitor results
  uint64_t monitor_errors;
  uint64_t monitor_samples;
} Stress;

static void
pause_us(const long us)
{
  const struct timespec ts = {0, us * 1000L};
  nanosleep(&ts, NULL);
}

static void
stress_fail(Stress* const st, const char* const what, const uint64_t pos)
{
  if (!st->errors++) {
    snprintf(st->first_error,
             sizeof(st->first_error),
             "%s at position %llu",
             what,
             (unsigned long long)pos);
  }
}

static void*
stress_writer(void* const arg)
{
  Stress* const st  = (Stress*)arg;
  uint64_t      rng = 0x9E3779B97F4A7C15ULL;
  static float  data[ST_CHANNELS][1024];
  const float*  planes[ST_CHANNELS];
  bool          stalled = false;

  uint64_t next = 0U;
  while (next < st->total) {
    const uint64_t left = st->total - next;
    const size_t   want = 1U + (size_t)(xorshift(&rng) % 1024U);
    const size_t   n    = want < left ? want : (size_t)left;
    for (unsigned c = 0U; c < ST_CHANNELS; ++c) {
      for (size_t i = 0U; i < n; ++i) {
        data[c][i] = encode(next + i, c);
      }
    }
    size_t done = 0U;
    while (done < n) {
      for (unsigned c = 0U; c < ST_CHANNELS; ++c) {
        planes[c] = data[c] + done;
      }
      done += rtl_writeahead_write(st->wa, planes, n - done);
      ++st->write_calls;
      if (done < n) {
        sched_yield(); // Full: wait for the reader
      }
    }
    next += n;

    const uint64_t dice = xorshift(&rng) % 256U;
    if (dice == 0U) {
      pause_us(20L + (long)(xorshift(&rng) % 400U));
    } else if (dice < 8U) {
      sched_yield();
    }

    // Halfway, stall until the reader has played through an underrun, so
    // that late frames are certain to be dropped at least once.
    if (!stalled && next >= st->total / 2U) {
      stalled = true;
      RtlWriteAheadStats s;
      do {
        pause_us(50L);
        rtl_writeahead_stats(st->wa, &s);
      } while (!s.underruns);
    }
  }
  atomic_store_explicit(&st->writer_done, true, memory_order_release);
  return NULL;
}

static void*
stress_reader(void* const arg)
{
  Stress* const      st  = (Stress*)arg;
  uint64_t           rng = 0xD1B54A32D192ED03ULL;
  static float       data[ST_CHANNELS][1024];
  float*             planes[ST_CHANNELS] = {data[0], data[1]};
  uint64_t           pos                 = 0U;
  int64_t            last                = -1;
  uint64_t           underrun_frames     = 0U;
  RtlWriteAheadStats s;

  for (;;) {
    const size_t n = 1U + (size_t)(xorshift(&rng) % 1024U);
    const bool   done =
      atomic_load_explicit(&st->writer_done, memory_order_acquire);
    const size_t fill = rtl_writeahead_fill(st->wa);
    if (done && !fill) {
      break;
    }
    // Mostly wait for a full period, as a graph whose writer keeps up
    // would; now and then play on regardless
    if (fill < n && !done && xorshift(&rng) % 32U) {
      sched_yield();
      continue;
    }

    for (unsigned c = 0U; c < ST_CHANNELS; ++c) {
      for (size_t i = 0U; i < n; ++i) {
        data[c][i] = -7.0f;
      }
    }
    const size_t got = rtl_writeahead_read(st->wa, planes, n);
    st->n_read += n;
    st->n_real += got;
    if (got > n) {
      stress_fail(st, "read returned more than asked", pos);
    }
    for (size_t i = 0U; i < n; ++i, ++pos) {
      const int64_t k = decode((const float* const*)planes, ST_CHANNELS, i);
      if (k == -2) {
        stress_fail(st, "corrupt frame", pos);
      } else if (k == -1) {
        if (i < got && pos >= ST_LATENCY) {
          stress_fail(st, "silence reported as real", pos);
        } else if (i < got) {
          ++st->n_prefill;
        }
      } else {
        if (i >= got) {
          stress_fail(st, "real frame in the silent tail", pos);
        }
        if (pos != (uint64_t)k + ST_LATENCY) {
          stress_fail(st, "frame not at k + L", pos);
        }
        if (k <= last) {
          stress_fail(st, "frame out of order or repeated", pos);
        }
        last = k;
        ++st->n_writer;
      }
    }
    // Only this thread moves the underrun counters: they must match
    rtl_writeahead_stats(st->wa, &s);
    if (got < n) {
      ++st->n_underruns;
      underrun_frames += n - got;
    }
    if (s.underruns != st->n_underruns ||
        s.underrun_frames != underrun_frames || s.frames_read != st->n_read) {
      stress_fail(st, "reader counters disagree", pos);
    }
  }
  atomic_store_explicit(&st->reader_done, true, memory_order_release);
  return NULL;
}

static void*
stress_monitor(void* const arg)
{
  Stress* const      st   = (Stress*)arg;
  RtlWriteAheadStats prev = {0};
  do {
    RtlWriteAheadStats s;
    rtl_writeahead_stats(st->wa, &s);
    ++st->monitor_samples;
    if (s.fill > s.capacity || s.capacity != ST_CAPACITY ||
        s.latency != ST_LATENCY || s.utilisation < 0.0f ||
        s.utilisation > 1.0f || s.frames_written < prev.frames_written ||
        s.frames_read < prev.frames_read || s.underruns < prev.underruns ||
        s.overruns < prev.overruns || s.frames_written > st->total ||
        s.underrun_frames > s.frames_read || s.adjustments) {
      ++st->monitor_errors;
    }
    prev = s;
    pause_us(200L);
  } while (!atomic_load_explicit(&st->reader_done, memory_order_acquire));
  return NULL;
}

START_TEST(test_threads_stress)
{
  static Stress st;
  memset(&st, 0, sizeof(st));
  st.total = rtl_stress_count(5000000U);
  ck_assert_uint_lt(st.total, 1U << 23U); // Exact in a float
  if (st.total < 4U * ST_CAPACITY) {
    st.total = 4U * ST_CAPACITY;
  }
  atomic_init(&st.writer_done, false);
  atomic_init(&st.reader_done, false);
  ck_assert_int_eq(
    rtl_writeahead_new(NULL, ST_CHANNELS, ST_CAPACITY, ST_LATENCY, &st.wa),
    RTL_SUCCESS);

  pthread_t writer;
  pthread_t reader;
  pthread_t monitor;
  ck_assert_int_eq(pthread_create(&reader, NULL, stress_reader, &st), 0);
  ck_assert_int_eq(pthread_create(&monitor, NULL, stress_monitor, &st), 0);
  ck_assert_int_eq(pthread_create(&writer, NULL, stress_writer, &st), 0);
  ck_assert_int_eq(pthread_join(writer, NULL), 0);
  ck_assert_int_eq(pthread_join(reader, NULL), 0);
  ck_assert_int_eq(pthread_join(monitor, NULL), 0);

  ck_assert_msg(!st.errors,
                "%llu errors, first: %s",
                (unsigned long long)st.errors,
                st.first_error);
  ck_assert_uint_eq(st.monitor_errors, 0U);
  ck_assert_uint_gt(st.monitor_samples, 0U);

  RtlWriteAheadStats s;
  rtl_writeahead_stats(st.wa, &s);
  ck_assert_uint_eq(s.fill, 0U);
  ck_assert_uint_eq(s.frames_read, st.n_read);
  ck_assert_uint_eq(s.frames_read, s.underrun_frames + st.n_real);
  ck_assert_uint_eq(s.underruns, st.n_underruns);
  ck_assert_uint_eq(st.n_real, st.n_writer + st.n_prefill);
  ck_assert_uint_eq(st.n_prefill, ST_LATENCY);
  ck_assert_uint_eq(s.frames_written, st.total);
  ck_assert_uint_eq(s.frames_written, st.n_writer + s.dropped_frames + s.fill);
  // The forced stall makes these certain, whatever the scheduling
  ck_assert_uint_ge(s.underruns, 1U);
  ck_assert_uint_ge(s.dropped_frames, 1U);
  ck_assert_uint_gt(st.n_writer, 0U);
  rtl_writeahead_free(st.wa);
}
END_TEST

Suite*
rtl_suite_writeahead(void)
{
  Suite* const s = suite_create("writeahead");

  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_prefill);
  tcase_add_test(core, test_delay_exact);
  tcase_add_test(core, test_underrun);
  tcase_add_test(core, test_underrun_far);
  tcase_add_test(core, test_overrun);
  tcase_add_test(core, test_latency_grow);
  tcase_add_test(core, test_latency_shrink);
  tcase_add_test(core, test_latency_shrink_then_grow);
  tcase_add_test(core, test_reset);
  tcase_add_test(core, test_accessors);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_add_test(limits, test_validation);
  tcase_add_test(limits, test_failing_allocator);
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_set_timeout(threads, 300);
  tcase_add_test(threads, test_threads_stress);
  suite_add_tcase(s, threads);

  return s;
}
