// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "support/failing_allocator.h"
#include "support/frames.h"
#include "support/stress.h"

#include <rtlane/allocator.h>
#include <rtlane/ring.h>
#include <rtlane/status.h>

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

Suite*
rtl_suite_ring(void);

/*
  The byte at stream position `pos`.  Not periodic in any power of two a
  ring could have, so losing or repeating a whole ring's worth of bytes
  changes what the reader sees.
*/
static uint8_t
stream_byte(const uint64_t pos)
{
  return (uint8_t)(pos ^ (pos >> 8U) ^ (pos >> 16U) ^ (pos >> 24U) ^ 0x5AU);
}

static void
fill_stream(uint8_t* const dst, const uint64_t pos, const size_t n)
{
  for (size_t i = 0U; i < n; ++i) {
    dst[i] = stream_byte(pos + i);
  }
}

/// Number of bytes in `src` that differ from the stream at `pos`.
static size_t
count_stream_errors(const uint8_t* const src,
                    const uint64_t       pos,
                    const size_t         n)
{
  size_t errors = 0U;
  for (size_t i = 0U; i < n; ++i) {
    errors += src[i] != stream_byte(pos + i);
  }
  return errors;
}

static RtlRing*
new_ring(const size_t capacity)
{
  RtlRing* ring = NULL;
  ck_assert_int_eq(rtl_ring_new(NULL, capacity, &ring), RTL_SUCCESS);
  ck_assert_ptr_nonnull(ring);
  return ring;
}

// --- core ----------------------------------------------------------------

START_TEST(test_new_rejects_bad_capacity)
{
  static const size_t bad[] = {0U, 3U, 5U, 6U, 7U, 12U, 100U, 1000U, 4097U};
  for (size_t i = 0U; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    RtlRing* ring = (RtlRing*)&ring; // must be overwritten with NULL
    ck_assert_int_eq(rtl_ring_new(NULL, bad[i], &ring), RTL_NOT_POW2);
    ck_assert_ptr_null(ring);
  }

  for (size_t cap = 1U; cap <= 65536U; cap <<= 1U) {
    RtlRing* const ring = new_ring(cap);
    ck_assert_uint_eq(rtl_ring_capacity(ring), cap);
    ck_assert_uint_eq(rtl_ring_write_space(ring), cap);
    ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
    rtl_ring_free(ring);
  }
  rtl_ring_free(NULL);
}
END_TEST

START_TEST(test_write_read_round_trip)
{
  RtlRing* const ring = new_ring(64U);
  uint8_t        in[40];
  uint8_t        out[40];
  fill_stream(in, 0U, sizeof(in));

  ck_assert_uint_eq(rtl_ring_write(ring, in, 10U), 10U);
  ck_assert_uint_eq(rtl_ring_write(ring, in + 10, 30U), 30U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 40U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 24U);

  memset(out, 0, sizeof(out));
  ck_assert_uint_eq(rtl_ring_read(ring, out, 25U), 25U);
  ck_assert_uint_eq(rtl_ring_read(ring, out + 25, 100U), 15U);
  ck_assert_mem_eq(out, in, sizeof(in));
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 64U);
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_peek_and_skip)
{
  RtlRing* const ring = new_ring(32U);
  uint8_t        in[20];
  uint8_t        out[20];
  fill_stream(in, 100U, sizeof(in));
  ck_assert_uint_eq(rtl_ring_write(ring, in, sizeof(in)), sizeof(in));

  // Peeking twice sees the same bytes: nothing is consumed.
  memset(out, 0, sizeof(out));
  ck_assert_uint_eq(rtl_ring_peek(ring, out, 8U), 8U);
  ck_assert_mem_eq(out, in, 8U);
  memset(out, 0, sizeof(out));
  ck_assert_uint_eq(rtl_ring_peek(ring, out, 100U), 20U);
  ck_assert_mem_eq(out, in, 20U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 20U);

  // Skip consumes without copying; the next read continues after it.
  ck_assert_uint_eq(rtl_ring_skip(ring, 5U), 5U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 15U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 17U);
  ck_assert_uint_eq(rtl_ring_read(ring, out, 3U), 3U);
  ck_assert_mem_eq(out, in + 5, 3U);
  ck_assert_uint_eq(rtl_ring_skip(ring, 100U), 12U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_reset)
{
  RtlRing* const ring = new_ring(16U);
  uint8_t        buf[16];
  fill_stream(buf, 0U, sizeof(buf));
  ck_assert_uint_eq(rtl_ring_write(ring, buf, 11U), 11U);
  ck_assert_uint_eq(rtl_ring_read(ring, buf, 3U), 3U);
  rtl_ring_reset(ring);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 16U);
  ck_assert_uint_eq(rtl_ring_read(ring, buf, 16U), 0U);

  // After the reset the full capacity is usable again, from any offset.
  fill_stream(buf, 7U, sizeof(buf));
  ck_assert_uint_eq(rtl_ring_write(ring, buf, 16U), 16U);
  uint8_t out[16];
  ck_assert_uint_eq(rtl_ring_read(ring, out, 16U), 16U);
  ck_assert_mem_eq(out, buf, 16U);
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_has_room)
{
  RtlRing* const ring = new_ring(16U);
  uint8_t        in[32];
  uint8_t        out[32];
  fill_stream(in, 0U, sizeof(in));

  // Empty: everything up to the capacity, nothing beyond.
  ck_assert(rtl_ring_has_room(ring, 0U));
  ck_assert(rtl_ring_has_room(ring, 16U));
  ck_assert(!rtl_ring_has_room(ring, 17U));
  ck_assert(!rtl_ring_has_room(ring, SIZE_MAX));

  // Partly full: exactly the free bytes, and a true means the write fits.
  ck_assert_uint_eq(rtl_ring_write(ring, in, 10U), 10U);
  ck_assert(rtl_ring_has_room(ring, 6U));
  ck_assert(!rtl_ring_has_room(ring, 7U));

  // The reader frees 4: the writer's cached index is stale, and has_room
  // must look again rather than answer from it.
  ck_assert_uint_eq(rtl_ring_read(ring, out, 4U), 4U);
  ck_assert_mem_eq(out, in, 4U);
  ck_assert(rtl_ring_has_room(ring, 10U));
  ck_assert(!rtl_ring_has_room(ring, 11U));
  ck_assert_uint_eq(rtl_ring_write(ring, in + 10, 10U), 10U);

  // Full (across the wrap): only 0 fits, until the reader frees a byte.
  ck_assert(rtl_ring_has_room(ring, 0U));
  ck_assert(!rtl_ring_has_room(ring, 1U));
  ck_assert_uint_eq(rtl_ring_skip(ring, 1U), 1U);
  ck_assert(rtl_ring_has_room(ring, 1U));
  ck_assert(!rtl_ring_has_room(ring, 2U));

  // In place, too: after true the reservation is the whole request.
  RtlRingRegions regions;
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 1U, &regions), 1U);
  memcpy(regions.data[0], in + 20, 1U);
  rtl_ring_write_commit(ring, 1U);
  ck_assert(!rtl_ring_has_room(ring, 1U));

  ck_assert_uint_eq(rtl_ring_read(ring, out, 16U), 16U);
  ck_assert_mem_eq(out, in + 5, 16U);
  ck_assert(rtl_ring_has_room(ring, 16U));

  // After a reset the cached index starts over with the ring.
  ck_assert_uint_eq(rtl_ring_write(ring, in, 16U), 16U);
  ck_assert(!rtl_ring_has_room(ring, 1U));
  rtl_ring_reset(ring);
  ck_assert(rtl_ring_has_room(ring, 16U));
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_new_allocation_failures)
{
  RtlFailingAllocator a    = rtl_failing_allocator();
  RtlRing*            ring = NULL;
  ck_assert_int_eq(rtl_ring_new(&a.base, 256U, &ring), RTL_SUCCESS);
  const size_t n = a.n_allocations;
  ck_assert_uint_ge(n, 1U);
  ck_assert_uint_eq(a.n_live, n);
  rtl_ring_free(ring);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n; ++i) {
    a             = rtl_failing_allocator();
    a.n_remaining = i;
    ring          = (RtlRing*)&ring;
    ck_assert_int_eq(rtl_ring_new(&a.base, 256U, &ring), RTL_NO_MEM);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_allocations, i + 1U);
    ck_assert_uint_eq(a.n_live, 0U);
  }
}
END_TEST

START_TEST(test_lock_memory)
{
  RtlRing* const  ring = new_ring(1U << 16U);
  const RtlStatus st   = rtl_ring_lock_memory(ring);
  ck_assert(st == RTL_SUCCESS || st == RTL_SYSTEM_ERROR);

  // Locking must not disturb the indices or the usable capacity.
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 1U << 16U);
  uint8_t buf[100];
  fill_stream(buf, 3U, sizeof(buf));
  ck_assert_uint_eq(rtl_ring_write(ring, buf, sizeof(buf)), sizeof(buf));
  uint8_t out[100];
  ck_assert_uint_eq(rtl_ring_read(ring, out, sizeof(out)), sizeof(out));
  ck_assert_mem_eq(out, buf, sizeof(buf));
  rtl_ring_free(ring);
}
END_TEST

// --- limits --------------------------------------------------------------

START_TEST(test_empty_ring)
{
  RtlRing* const ring = new_ring(8U);
  uint8_t        buf[8];
  memset(buf, 0xAB, sizeof(buf));
  ck_assert_uint_eq(rtl_ring_read(ring, buf, 8U), 0U);
  ck_assert_uint_eq(rtl_ring_peek(ring, buf, 8U), 0U);
  ck_assert_uint_eq(rtl_ring_skip(ring, 8U), 0U);
  ck_assert_uint_eq(buf[0], 0xABU); // nothing was copied

  RtlRingRegions regions;
  ck_assert_uint_eq(rtl_ring_read_regions(ring, 8U, &regions), 0U);
  ck_assert_uint_eq(regions.len[0] + regions.len[1], 0U);
  ck_assert_ptr_null(regions.data[1]);
  rtl_ring_read_commit(ring, 8U); // nothing to release: must stay empty
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 8U);

  // Zero-sized requests are no-ops on an empty or a non-empty ring.
  ck_assert_uint_eq(rtl_ring_write(ring, buf, 0U), 0U);
  ck_assert_uint_eq(rtl_ring_read(ring, buf, 0U), 0U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_full_ring)
{
  RtlRing* const ring = new_ring(16U);
  uint8_t        in[32];
  fill_stream(in, 0U, sizeof(in));

  // Every byte of the capacity is usable; beyond it a write is partial.
  ck_assert_uint_eq(rtl_ring_write(ring, in, 10U), 10U);
  ck_assert_uint_eq(rtl_ring_write(ring, in + 10, 10U), 6U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 16U);
  ck_assert_uint_eq(rtl_ring_write(ring, in, 1U), 0U);

  RtlRingRegions regions;
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 4U, &regions), 0U);
  ck_assert_uint_eq(regions.len[0] + regions.len[1], 0U);
  rtl_ring_write_commit(ring, 4U); // nothing reserved: must not overwrite
  ck_assert_uint_eq(rtl_ring_read_space(ring), 16U);

  uint8_t out[16];
  ck_assert_uint_eq(rtl_ring_read(ring, out, 16U), 16U);
  ck_assert_mem_eq(out, in, 16U);

  // Freeing one byte lets exactly one more in.
  ck_assert_uint_eq(rtl_ring_write(ring, in, 16U), 16U);
  ck_assert_uint_eq(rtl_ring_skip(ring, 1U), 1U);
  ck_assert_uint_eq(rtl_ring_write(ring, in + 16, 5U), 1U);
  ck_assert_uint_eq(rtl_ring_read(ring, out, 16U), 16U);
  ck_assert_mem_eq(out, in + 1, 16U);
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_exact_wrap)
{
  // Fill exactly to the end of the storage, then cross it, many times over,
  // with every possible starting offset.
  enum { CAP = 16 };
  RtlRing* const ring = new_ring(CAP);
  uint8_t        in[CAP];
  uint8_t        out[CAP];
  uint64_t       wpos = 0U;
  uint64_t       rpos = 0U;
  for (size_t offset = 0U; offset < CAP; ++offset) {
    for (size_t len = 1U; len <= CAP; ++len) {
      // Move both indices to `offset` within the storage.
      while ((wpos % CAP) != offset) {
        fill_stream(in, wpos, 1U);
        ck_assert_uint_eq(rtl_ring_write(ring, in, 1U), 1U);
        ++wpos;
        ck_assert_uint_eq(rtl_ring_read(ring, out, 1U), 1U);
        ck_assert_uint_eq(count_stream_errors(out, rpos, 1U), 0U);
        ++rpos;
      }
      fill_stream(in, wpos, len);
      ck_assert_uint_eq(rtl_ring_write(ring, in, len), len);
      wpos += len;
      ck_assert_uint_eq(rtl_ring_read_space(ring), len);
      memset(out, 0, sizeof(out));
      ck_assert_uint_eq(rtl_ring_read(ring, out, CAP), len);
      ck_assert_uint_eq(count_stream_errors(out, rpos, len), 0U);
      rpos += len;
    }
  }
  ck_assert_uint_eq(wpos, rpos);
  ck_assert_uint_gt(wpos, 100U * CAP); // the indices ran far past capacity
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_capacity_one)
{
  RtlRing* const ring = new_ring(1U);
  ck_assert_uint_eq(rtl_ring_capacity(ring), 1U);
  for (uint64_t pos = 0U; pos < 1000U; ++pos) {
    uint8_t in[4];
    uint8_t out[4];
    fill_stream(in, pos, sizeof(in));
    const uint8_t b = in[0];
    uint8_t       c = 0U;
    ck_assert_uint_eq(rtl_ring_write_space(ring), 1U);
    if (pos % 3U == 0U) {
      ck_assert_uint_eq(rtl_ring_write(ring, in, 4U), 1U);
    } else {
      RtlRingRegions regions;
      ck_assert_uint_eq(rtl_ring_write_regions(ring, 4U, &regions), 1U);
      ck_assert_uint_eq(regions.len[0], 1U);
      ck_assert_uint_eq(regions.len[1], 0U);
      ck_assert_ptr_null(regions.data[1]);
      *(uint8_t*)regions.data[0] = b;
      rtl_ring_write_commit(ring, 1U);
    }
    ck_assert_uint_eq(rtl_ring_write(ring, &b, 1U), 0U);
    ck_assert_uint_eq(rtl_ring_write_space(ring), 0U);
    ck_assert_uint_eq(rtl_ring_read_space(ring), 1U);
    ck_assert_uint_eq(rtl_ring_peek(ring, &c, 1U), 1U);
    ck_assert_uint_eq(c, b);
    c = 0U;
    if (pos % 2U == 0U) {
      memset(out, 0, sizeof(out));
      ck_assert_uint_eq(rtl_ring_read(ring, out, 4U), 1U);
      ck_assert_uint_eq(out[1], 0U);
      c = out[0];
    } else {
      RtlRingRegions regions;
      ck_assert_uint_eq(rtl_ring_read_regions(ring, 2U, &regions), 1U);
      c = *(const uint8_t*)regions.data[0];
      rtl_ring_read_commit(ring, 1U);
    }
    ck_assert_uint_eq(c, b);
    ck_assert_uint_eq(rtl_ring_read(ring, &c, 1U), 0U);
  }
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_regions_across_wrap)
{
  RtlRing* const ring = new_ring(16U);
  uint8_t        buf[16];

  // Move the indices to 12 so that a reservation crosses the end.
  fill_stream(buf, 0U, 12U);
  ck_assert_uint_eq(rtl_ring_write(ring, buf, 12U), 12U);
  ck_assert_uint_eq(rtl_ring_read(ring, buf, 12U), 12U);

  RtlRingRegions w;
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 10U, &w), 10U);
  ck_assert_uint_eq(w.len[0], 4U);
  ck_assert_uint_eq(w.len[1], 6U);
  ck_assert_ptr_nonnull(w.data[1]);
  // The second segment is the start of the storage, the first its last 4.
  ck_assert_ptr_eq((uint8_t*)w.data[0] - 12, w.data[1]);
  fill_stream((uint8_t*)w.data[0], 1000U, 4U);
  fill_stream((uint8_t*)w.data[1], 1004U, 6U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U); // not yet published
  rtl_ring_write_commit(ring, 10U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 10U);

  // Read them back in place, across the same wrap.
  RtlRingRegions r;
  ck_assert_uint_eq(rtl_ring_read_regions(ring, 16U, &r), 10U);
  ck_assert_uint_eq(r.len[0], 4U);
  ck_assert_uint_eq(r.len[1], 6U);
  ck_assert_uint_eq(count_stream_errors(r.data[0], 1000U, 4U), 0U);
  ck_assert_uint_eq(count_stream_errors(r.data[1], 1004U, 6U), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 6U); // not yet released
  rtl_ring_read_commit(ring, 10U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 16U);

  // A request that fits before the end is one segment.
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 3U, &w), 3U);
  ck_assert_uint_eq(w.len[0], 3U);
  ck_assert_uint_eq(w.len[1], 0U);
  ck_assert_ptr_null(w.data[1]);

  // A request larger than the free space is cut to it, both segments
  // together covering the whole capacity.
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 100U, &w), 16U);
  ck_assert_uint_eq(w.len[0] + w.len[1], 16U);
  ck_assert_uint_eq(w.len[0], 10U); // from offset 6 to the end
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_partial_commit)
{
  RtlRing* const ring = new_ring(32U);
  RtlRingRegions w;
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 20U, &w), 20U);
  fill_stream((uint8_t*)w.data[0], 0U, 7U);
  memset((uint8_t*)w.data[0] + 7, 0xEE, 13U);
  rtl_ring_write_commit(ring, 7U); // only the first 7 bytes are published
  ck_assert_uint_eq(rtl_ring_read_space(ring), 7U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 25U);

  // The next reservation starts right after what was committed.
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 5U, &w), 5U);
  fill_stream((uint8_t*)w.data[0], 7U, 5U);
  rtl_ring_write_commit(ring, 5U);

  RtlRingRegions r;
  ck_assert_uint_eq(rtl_ring_read_regions(ring, 32U, &r), 12U);
  ck_assert_uint_eq(count_stream_errors(r.data[0], 0U, 12U), 0U);
  rtl_ring_read_commit(ring, 4U); // release only 4 of the 12
  ck_assert_uint_eq(rtl_ring_read_space(ring), 8U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 24U);

  uint8_t out[8];
  ck_assert_uint_eq(rtl_ring_read(ring, out, sizeof(out)), 8U);
  ck_assert_uint_eq(count_stream_errors(out, 4U, 8U), 0U);

  // Committing more than was obtained moves no index past the other side's.
  ck_assert_uint_eq(rtl_ring_write_regions(ring, 32U, &w), 32U);
  rtl_ring_write_commit(ring, 1000U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 32U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_read_regions(ring, 32U, &r), 32U);
  rtl_ring_read_commit(ring, 1000U);
  ck_assert_uint_eq(rtl_ring_read_space(ring), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(ring), 32U);
  rtl_ring_free(ring);
}
END_TEST

// --- threads -------------------------------------------------------------

#define STREAM_CAPACITY 4096U
#define STREAM_CHUNK_MAX (STREAM_CAPACITY + STREAM_CAPACITY / 2U)

typedef struct {
  RtlRing* ring;
  uint64_t total;
  uint64_t errors; // reader: bytes that differ from the stream
  // Per side, [0] writer and [1] reader, so that neither shares a counter:
  uint64_t bad_space[2];   // a space figure out of range
  uint64_t bad_regions[2]; // regions that disagree with the count
  uint64_t n_regions[2];   // in-place operations that crossed the wrap
} StreamState;

static size_t
random_chunk(uint64_t* const rng)
{
  // Mostly small chunks, sometimes more than the ring can hold at once.
  const uint64_t r = xorshift(rng);
  return (r & 3U) ? 1U + (size_t)((r >> 8U) % 97U)
                  : 1U + (size_t)((r >> 8U) % STREAM_CHUNK_MAX);
}

/// A writer's next chunk: random_chunk(), cut to `max` and to what is left.
static size_t
next_chunk(uint64_t* const rng,
           const uint64_t  pos,
           const uint64_t  total,
           const size_t    max)
{
  size_t want = random_chunk(rng);
  if (want > max) {
    want = max;
  }
  return total - pos < want ? (size_t)(total - pos) : want;
}

static int
regions_ok(const RtlRingRegions* const regions, const size_t n)
{
  return regions->len[0] + regions->len[1] == n &&
         (regions->len[1] == 0U) == (regions->data[1] == NULL);
}

static void*
stream_writer(void* const arg)
{
  StreamState* const s   = (StreamState*)arg;
  uint64_t           rng = 0x243F6A8885A308D3ULL;
  uint64_t           pos = 0U;
  static uint8_t     buf[STREAM_CHUNK_MAX];
  while (pos < s->total) {
    const size_t want = next_chunk(&rng, pos, s->total, STREAM_CHUNK_MAX);
    if (rtl_ring_write_space(s->ring) > STREAM_CAPACITY) {
      ++s->bad_space[0];
    }

    size_t         done = 0U;
    RtlRingRegions regions;
    switch (xorshift(&rng) % 3U) {
    case 0:
      fill_stream(buf, pos, want);
      done = rtl_ring_write(s->ring, buf, want);
      break;
    case 1: {
      // In place, committing everything reserved.
      const size_t n = rtl_ring_write_regions(s->ring, want, &regions);
      s->bad_regions[0] += !regions_ok(&regions, n);
      s->n_regions[0] += regions.len[1] != 0U;
      fill_stream((uint8_t*)regions.data[0], pos, regions.len[0]);
      fill_stream(
        (uint8_t*)regions.data[1], pos + regions.len[0], regions.len[1]);
      rtl_ring_write_commit(s->ring, n);
      done = n;
      break;
    }
    default: {
      // In place, committing only part: the rest is poisoned, so a commit
      // that published more than asked would corrupt the stream.
      const size_t n = rtl_ring_write_regions(s->ring, want, &regions);
      s->bad_regions[0] += !regions_ok(&regions, n);
      done           = n ? (size_t)(xorshift(&rng) % (n + 1U)) : 0U;
      const size_t a = done < regions.len[0] ? done : regions.len[0];
      fill_stream((uint8_t*)regions.data[0], pos, a);
      memset((uint8_t*)regions.data[0] + a, 0xEE, regions.len[0] - a);
      if (regions.len[1]) {
        fill_stream((uint8_t*)regions.data[1], pos + a, done - a);
        memset((uint8_t*)regions.data[1] + (done - a),
               0xEE,
               regions.len[1] - (done - a));
      }
      rtl_ring_write_commit(s->ring, done);
      break;
    }
    }
    pos += done;
    if (!done) {
      sched_yield();
    }
  }
  return NULL;
}

static void*
stream_reader(void* const arg)
{
  StreamState* const s   = (StreamState*)arg;
  uint64_t           rng = 0x13198A2E03707344ULL;
  uint64_t           pos = 0U;
  static uint8_t     buf[STREAM_CHUNK_MAX];
  while (pos < s->total) {
    const size_t want = random_chunk(&rng);
    if (rtl_ring_read_space(s->ring) > STREAM_CAPACITY) {
      ++s->bad_space[1];
    }

    size_t         done = 0U;
    RtlRingRegions regions;
    switch (xorshift(&rng) % 3U) {
    case 0:
      done = rtl_ring_read(s->ring, buf, want);
      s->errors += count_stream_errors(buf, pos, done);
      break;
    case 1: {
      // Peek, then consume part of it with skip.
      const size_t n = rtl_ring_peek(s->ring, buf, want);
      s->errors += count_stream_errors(buf, pos, n);
      done = n ? (size_t)(xorshift(&rng) % (n + 1U)) : 0U;
      s->errors += rtl_ring_skip(s->ring, done) != done;
      break;
    }
    default: {
      const size_t n = rtl_ring_read_regions(s->ring, want, &regions);
      s->bad_regions[1] += !regions_ok(&regions, n);
      s->n_regions[1] += regions.len[1] != 0U;
      s->errors += count_stream_errors(regions.data[0], pos, regions.len[0]);
      if (regions.len[1]) {
        s->errors += count_stream_errors(
          regions.data[1], pos + regions.len[0], regions.len[1]);
      }
      done = n;
      if (n && (xorshift(&rng) & 1U)) {
        done = (size_t)(xorshift(&rng) % (n + 1U)); // release only part
      }
      rtl_ring_read_commit(s->ring, done);
      break;
    }
    }
    pos += done;
    if (!done) {
      sched_yield();
    }
  }
  return NULL;
}

/*
  A writer that asks rtl_ring_has_room() before every write, as the audio
  thread does before an all-or-nothing period, must then never be refused
  a byte.  The reader starts only once the writer has found the ring full,
  so the refresh of a stale cached index is exercised for certain, not
  only when the scheduler happens to allow it.
*/
typedef struct {
  StreamState stream;
  atomic_int  filled;      // writer -> reader: the ring was found full
  uint64_t    no_room;     // writer: has_room said no
  uint64_t    short_write; // writer: a write after a yes was cut short
} RoomStreamState;

static void*
room_stream_writer(void* const arg)
{
  RoomStreamState* const s   = (RoomStreamState*)arg;
  uint64_t               rng = 0xA4093822299F31D0ULL;
  uint64_t               pos = 0U;
  static uint8_t         buf[STREAM_CAPACITY];
  while (pos < s->stream.total) {
    // At most the capacity: has_room() says no to more, whatever is read.
    const size_t want = next_chunk(&rng, pos, s->stream.total, STREAM_CAPACITY);
    while (!rtl_ring_has_room(s->stream.ring, want)) {
      ++s->no_room;
      atomic_store_explicit(&s->filled, 1, memory_order_release);
      sched_yield();
    }

    size_t done = 0U;
    if (xorshift(&rng) & 1U) {
      fill_stream(buf, pos, want);
      done = rtl_ring_write(s->stream.ring, buf, want);
    } else {
      RtlRingRegions regions;
      done = rtl_ring_write_regions(s->stream.ring, want, &regions);
      fill_stream((uint8_t*)regions.data[0], pos, regions.len[0]);
      fill_stream(
        (uint8_t*)regions.data[1], pos + regions.len[0], regions.len[1]);
      rtl_ring_write_commit(s->stream.ring, done);
    }
    if (done != want) {
      // A broken promise: counted, and the reader let in, so that the test
      // fails rather than hangs.
      ++s->short_write;
      atomic_store_explicit(&s->filled, 1, memory_order_release);
    }
    pos += done;
  }
  return NULL;
}

static void*
room_stream_reader(void* const arg)
{
  RoomStreamState* const s = (RoomStreamState*)arg;
  while (!atomic_load_explicit(&s->filled, memory_order_acquire)) {
    sched_yield();
  }
  return stream_reader(&s->stream);
}

START_TEST(test_has_room_stress)
{
  static RoomStreamState s;
  memset(&s, 0, sizeof(s));
  atomic_init(&s.filled, 0);
  s.stream.ring  = new_ring(STREAM_CAPACITY);
  s.stream.total = rtl_stress_count(32U * 1024U * 1024U);

  ck_assert_int_eq(rtl_stress_run(room_stream_reader, room_stream_writer, &s),
                   0);

  ck_assert_uint_eq(s.short_write, 0U);
  ck_assert_uint_gt(s.no_room, 0U);
  ck_assert_uint_eq(s.stream.errors, 0U);
  ck_assert_uint_eq(s.stream.bad_space[1], 0U);
  ck_assert_uint_eq(s.stream.bad_regions[1], 0U);
  ck_assert_uint_eq(rtl_ring_read_space(s.stream.ring), 0U);
  ck_assert(rtl_ring_has_room(s.stream.ring, STREAM_CAPACITY));
  rtl_ring_free(s.stream.ring);
}
END_TEST

START_TEST(test_stream_stress)
{
  StreamState s;
  memset(&s, 0, sizeof(s));
  s.ring  = new_ring(STREAM_CAPACITY);
  s.total = rtl_stress_count(64U * 1024U * 1024U);

  ck_assert_int_eq(rtl_stress_run(stream_reader, stream_writer, &s), 0);

  ck_assert_uint_eq(s.errors, 0U);
  ck_assert_uint_eq(s.bad_space[0] + s.bad_space[1], 0U);
  ck_assert_uint_eq(s.bad_regions[0] + s.bad_regions[1], 0U);
  ck_assert_uint_eq(rtl_ring_read_space(s.ring), 0U);
  ck_assert_uint_eq(rtl_ring_write_space(s.ring), STREAM_CAPACITY);
  // Both sides really exercised the two-segment case.
  ck_assert_uint_gt(s.n_regions[0], 0U);
  ck_assert_uint_gt(s.n_regions[1], 0U);
  rtl_ring_free(s.ring);
}
END_TEST

Suite*
rtl_suite_ring(void)
{
  Suite* const s = suite_create("ring");

  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_new_rejects_bad_capacity);
  tcase_add_test(core, test_write_read_round_trip);
  tcase_add_test(core, test_peek_and_skip);
  tcase_add_test(core, test_reset);
  tcase_add_test(core, test_has_room);
  tcase_add_test(core, test_new_allocation_failures);
  tcase_add_test(core, test_lock_memory);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_add_test(limits, test_empty_ring);
  tcase_add_test(limits, test_full_ring);
  tcase_add_test(limits, test_exact_wrap);
  tcase_add_test(limits, test_capacity_one);
  tcase_add_test(limits, test_regions_across_wrap);
  tcase_add_test(limits, test_partial_commit);
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_set_timeout(threads, 300);
  tcase_add_test(threads, test_stream_stress);
  tcase_add_test(threads, test_has_room_stress);
  suite_add_tcase(s, threads);

  return s;
}
