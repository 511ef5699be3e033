// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "support/failing_allocator.h"
#include "support/stress.h"

#include <rtlane/allocator.h>
#include <rtlane/msgring.h>
#include <rtlane/status.h>

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

Suite*
rtl_suite_msgring(void);

static RtlMsgRing*
new_msgring(const size_t n_slots, const size_t max_payload)
{
  RtlMsgRing* ring = NULL;
  ck_assert_int_eq(rtl_msgring_new(NULL, n_slots, max_payload, &ring),
                   RTL_SUCCESS);
  ck_assert_ptr_nonnull(ring);
  return ring;
}

/// Payload byte `i` of message `seq`: differs between neighbouring messages.
static uint8_t
payload_byte(const uint64_t seq, const size_t i)
{
  return (uint8_t)((seq * 0x9E3779B97F4A7C15ULL) >> 56U) ^ (uint8_t)(i * 37U);
}

static void
fill_payload(uint8_t* const dst, const uint64_t seq, const size_t n)
{
  for (size_t i = 0U; i < n; ++i) {
    dst[i] = payload_byte(seq, i);
  }
}

static int
payload_ok(const uint8_t* const src, const uint64_t seq, const size_t n)
{
  for (size_t i = 0U; i < n; ++i) {
    if (src[i] != payload_byte(seq, i)) {
      return 0;
    }
  }
  return 1;
}

// --- core ----------------------------------------------------------------

START_TEST(test_new_rejects_bad_arguments)
{
  static const size_t bad_slots[] = {0U, 3U, 6U, 100U, 1023U};
  for (size_t i = 0U; i < sizeof(bad_slots) / sizeof(bad_slots[0]); ++i) {
    RtlMsgRing* ring = (RtlMsgRing*)&ring;
    ck_assert_int_eq(rtl_msgring_new(NULL, bad_slots[i], 16U, &ring),
                     RTL_NOT_POW2);
    ck_assert_ptr_null(ring);
  }

  RtlMsgRing* ring = (RtlMsgRing*)&ring;
  ck_assert_int_eq(rtl_msgring_new(NULL, 8U, 0U, &ring), RTL_BAD_ARG);
  ck_assert_ptr_null(ring);
  // The header's size field is 32 bits: a larger payload could not be sent.
  ring = (RtlMsgRing*)&ring;
  ck_assert_int_eq(rtl_msgring_new(NULL, 8U, (size_t)UINT32_MAX + 1U, &ring),
                   RTL_BAD_ARG);
  ck_assert_ptr_null(ring);

  static const size_t payloads[] = {
    1U, 7U, 8U, 16U, 24U, 56U, 57U, 100U, 4096U};
  for (size_t i = 0U; i < sizeof(payloads) / sizeof(payloads[0]); ++i) {
    ring = new_msgring(16U, payloads[i]);
    ck_assert_uint_eq(rtl_msgring_capacity(ring), 16U);
    ck_assert_uint_eq(rtl_msgring_max_payload(ring), payloads[i]);
    ck_assert_uint_eq(rtl_msgring_read_space(ring), 0U);
    ck_assert_uint_eq(rtl_msgring_write_space(ring), 16U);
    rtl_msgring_free(ring);
  }
  rtl_msgring_free(NULL);
}
END_TEST

START_TEST(test_send_recv_round_trip)
{
  RtlMsgRing* const ring = new_msgring(8U, 100U);
  uint8_t           in[100];
  uint8_t           out[128];

  // Every size from 0 to the maximum, with its own type and content: the
  // short payloads that are copied inline and the longer ones alike.
  for (uint32_t size = 0U; size <= 100U; ++size) {
    fill_payload(in, size, size);
    ck_assert_int_eq(rtl_msgring_send(ring, 1000U + size, in, size),
                     RTL_SUCCESS);
    ck_assert_uint_eq(rtl_msgring_read_space(ring), 1U);

    RtlMsgHeader peeked = {0U, 0U};
    ck_assert_int_eq(rtl_msgring_peek(ring, &peeked), RTL_SUCCESS);
    ck_assert_uint_eq(peeked.type, 1000U + size);
    ck_assert_uint_eq(peeked.size, size);

    RtlMsgHeader h = {0U, 0U};
    memset(out, 0xCC, sizeof(out));
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, 1000U + size);
    ck_assert_uint_eq(h.size, size);
    ck_assert(payload_ok(out, size, size));
    ck_assert_uint_eq(out[size], 0xCCU); // nothing written past the payload
    ck_assert_uint_eq(rtl_msgring_read_space(ring), 0U);
  }

  // A message without a payload needs no body on either side.
  ck_assert_int_eq(rtl_msgring_send(ring, 7U, NULL, 0U), RTL_SUCCESS);
  RtlMsgHeader h = {0U, 1U};
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, NULL, 0U), RTL_SUCCESS);
  ck_assert_uint_eq(h.type, 7U);
  ck_assert_uint_eq(h.size, 0U);
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_fifo_and_spaces)
{
  RtlMsgRing* const ring = new_msgring(16U, 8U);
  for (uint64_t i = 0U; i < 10U; ++i) {
    ck_assert_int_eq(rtl_msgring_send(ring, (uint32_t)i, &i, sizeof(i)),
                     RTL_SUCCESS);
    ck_assert_uint_eq(rtl_msgring_read_space(ring), i + 1U);
    ck_assert_uint_eq(rtl_msgring_write_space(ring), 16U - (i + 1U));
  }
  for (uint64_t i = 0U; i < 10U; ++i) {
    RtlMsgHeader h;
    uint64_t     v = UINT64_MAX;
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, &v, sizeof(v)), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, i);
    ck_assert_uint_eq(v, i);
    ck_assert_uint_eq(rtl_msgring_read_space(ring), 9U - i);
  }
  ck_assert_uint_eq(rtl_msgring_write_space(ring), 16U);
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_has_room)
{
  RtlMsgRing* const ring = new_msgring(8U, 16U);
  uint8_t           in[16];
  uint8_t           out[16];
  RtlMsgHeader      h;

  // Empty: up to the slot count, nothing beyond.
  ck_assert(rtl_msgring_has_room(ring, 0U));
  ck_assert(rtl_msgring_has_room(ring, 8U));
  ck_assert(!rtl_msgring_has_room(ring, 9U));
  ck_assert(!rtl_msgring_has_room(ring, SIZE_MAX));

  for (uint64_t i = 0U; i < 5U; ++i) {
    fill_payload(in, i, sizeof(in));
    ck_assert_int_eq(rtl_msgring_send(ring, (uint32_t)i, in, 16U), RTL_SUCCESS);
  }
  ck_assert(rtl_msgring_has_room(ring, 3U));
  ck_assert(!rtl_msgring_has_room(ring, 4U));

  // The reader frees two slots: the writer's cached index is stale, and
  // has_room must look again rather than answer from it.
  for (uint64_t i = 0U; i < 2U; ++i) {
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, i);
  }
  ck_assert(rtl_msgring_has_room(ring, 5U));
  ck_assert(!rtl_msgring_has_room(ring, 6U));

  // A yes for n is n sends that succeed, and then the ring is full.
  for (uint64_t i = 5U; i < 10U; ++i) {
    fill_payload(in, i, sizeof(in));
    ck_assert_int_eq(rtl_msgring_send(ring, (uint32_t)i, in, 16U), RTL_SUCCESS);
  }
  ck_assert(rtl_msgring_has_room(ring, 0U));
  ck_assert(!rtl_msgring_has_room(ring, 1U));
  ck_assert_int_eq(rtl_msgring_send(ring, 99U, in, 16U), RTL_FULL);

  // One slot freed (across the wrap) is room for exactly one.
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
  ck_assert_uint_eq(h.type, 2U);
  ck_assert(rtl_msgring_has_room(ring, 1U));
  ck_assert(!rtl_msgring_has_room(ring, 2U));
  ck_assert_int_eq(rtl_msgring_send(ring, 10U, in, 0U), RTL_SUCCESS);
  ck_assert(!rtl_msgring_has_room(ring, 1U));

  for (uint64_t i = 3U; i <= 10U; ++i) {
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, i);
  }
  ck_assert(rtl_msgring_has_room(ring, 8U));
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_new_allocation_failures)
{
  RtlFailingAllocator a    = rtl_failing_allocator();
  RtlMsgRing*         ring = NULL;
  ck_assert_int_eq(rtl_msgring_new(&a.base, 64U, 24U, &ring), RTL_SUCCESS);
  const size_t n = a.n_allocations;
  ck_assert_uint_ge(n, 1U);
  ck_assert_uint_eq(a.n_live, n);
  rtl_msgring_free(ring);
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n; ++i) {
    a             = rtl_failing_allocator();
    a.n_remaining = i;
    ring          = (RtlMsgRing*)&ring;
    ck_assert_int_eq(rtl_msgring_new(&a.base, 64U, 24U, &ring), RTL_NO_MEM);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_allocations, i + 1U);
    ck_assert_uint_eq(a.n_live, 0U);
  }

  // A size that overflows is refused before anything is allocated.
  a = rtl_failing_allocator();
  ck_assert_int_eq(rtl_msgring_new(&a.base, (SIZE_MAX >> 1U) + 1U, 24U, &ring),
                   RTL_NO_MEM);
  ck_assert_ptr_null(ring);
  ck_assert_uint_eq(a.n_allocations, 0U);
}
END_TEST

START_TEST(test_lock_memory)
{
  RtlMsgRing* const ring = new_msgring(1024U, 100U);
  const RtlStatus   st   = rtl_msgring_lock_memory(ring);
  ck_assert(st == RTL_SUCCESS || st == RTL_SYSTEM_ERROR);
  ck_assert_uint_eq(rtl_msgring_read_space(ring), 0U);
  ck_assert_uint_eq(rtl_msgring_write_space(ring), 1024U);
  ck_assert_int_eq(rtl_msgring_send(ring, 3U, "abc", 3U), RTL_SUCCESS);
  RtlMsgHeader h;
  char         out[8] = {0};
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
  ck_assert_str_eq(out, "abc");
  rtl_msgring_free(ring);
}
END_TEST

// --- limits --------------------------------------------------------------

START_TEST(test_new_slot_size_overflow)
{
  // Header (8) + payload + 7 must not wrap: where size_t has 32 bits the
  // UINT32_MAX limit lets these through, and the stride would wrap to 8 or
  // 0.  Each is refused as RTL_NO_MEM, like RtlQueue's oversized cells,
  // before anything is allocated, on every target.
  static const size_t huge[] = {
    SIZE_MAX,       // the sum wraps to 14: a stride of 8
    SIZE_MAX - 3U,  // wraps to 11: a stride of 8
    SIZE_MAX - 7U,  // wraps to 7: a stride of 0
    SIZE_MAX - 14U, // the first payload whose sum wraps (to 0)
  };
  for (size_t i = 0U; i < sizeof(huge) / sizeof(huge[0]); ++i) {
    RtlFailingAllocator a    = rtl_failing_allocator();
    RtlMsgRing*         ring = (RtlMsgRing*)&ring;
    ck_assert_int_eq(rtl_msgring_new(&a.base, 8U, huge[i], &ring), RTL_NO_MEM);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_allocations, 0U);

    ring = (RtlMsgRing*)&ring;
    ck_assert_int_eq(rtl_msgring_new(&a.base, 1U, huge[i], &ring), RTL_NO_MEM);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_allocations, 0U);
  }

  // One below the first wrap is addressable; it is then the header's
  // 32-bit size field that refuses it where size_t is wider.
#if SIZE_MAX > UINT32_MAX
  {
    RtlFailingAllocator a    = rtl_failing_allocator();
    RtlMsgRing*         ring = (RtlMsgRing*)&ring;
    ck_assert_int_eq(rtl_msgring_new(&a.base, 8U, SIZE_MAX - 15U, &ring),
                     RTL_BAD_ARG);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_allocations, 0U);

    // The largest payload a header can carry, in more slots than can be
    // addressed: the stride is fine, the product is not.
    ring = (RtlMsgRing*)&ring;
    ck_assert_int_eq(
      rtl_msgring_new(&a.base, (size_t)1U << 32U, UINT32_MAX, &ring),
      RTL_NO_MEM);
    ck_assert_ptr_null(ring);
    ck_assert_uint_eq(a.n_allocations, 0U);
  }
#endif
}
END_TEST

START_TEST(test_empty)
{
  RtlMsgRing* const ring = new_msgring(4U, 8U);
  RtlMsgHeader      h    = {42U, 43U};
  uint8_t           out[8];
  memset(out, 0xCC, sizeof(out));
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_EMPTY);
  ck_assert_int_eq(rtl_msgring_peek(ring, &h), RTL_EMPTY);
  ck_assert_uint_eq(out[0], 0xCCU);

  // Empty again after draining, at a non-zero index.
  ck_assert_int_eq(rtl_msgring_send(ring, 1U, out, 1U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_EMPTY);
  ck_assert_int_eq(rtl_msgring_peek(ring, &h), RTL_EMPTY);
  ck_assert_uint_eq(rtl_msgring_read_space(ring), 0U);
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_full)
{
  RtlMsgRing* const ring = new_msgring(8U, 16U);
  uint8_t           in[16];

  // Every slot is usable.
  for (uint64_t i = 0U; i < 8U; ++i) {
    fill_payload(in, i, sizeof(in));
    ck_assert_int_eq(rtl_msgring_send(ring, (uint32_t)i, in, 16U), RTL_SUCCESS);
  }
  ck_assert_uint_eq(rtl_msgring_write_space(ring), 0U);

  // A full ring refuses the message and changes nothing.
  fill_payload(in, 99U, sizeof(in));
  ck_assert_int_eq(rtl_msgring_send(ring, 99U, in, 16U), RTL_FULL);
  ck_assert_int_eq(rtl_msgring_send(ring, 99U, in, 0U), RTL_FULL);
  ck_assert_uint_eq(rtl_msgring_read_space(ring), 8U);

  // One slot freed is exactly one message more, after the others.
  RtlMsgHeader h;
  uint8_t      out[16];
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
  ck_assert_uint_eq(h.type, 0U);
  fill_payload(in, 8U, sizeof(in));
  ck_assert_int_eq(rtl_msgring_send(ring, 8U, in, 16U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_msgring_send(ring, 9U, in, 16U), RTL_FULL);
  for (uint64_t i = 1U; i <= 8U; ++i) {
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, i);
    ck_assert_uint_eq(h.size, 16U);
    ck_assert(payload_ok(out, i, 16U));
  }
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)), RTL_EMPTY);
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_too_big)
{
  RtlMsgRing* const ring = new_msgring(4U, 20U);
  uint8_t           in[64];
  fill_payload(in, 5U, sizeof(in));

  // A payload over the slot size is refused whole, full ring or not.
  ck_assert_int_eq(rtl_msgring_send(ring, 1U, in, 21U), RTL_TOO_BIG);
  ck_assert_int_eq(rtl_msgring_send(ring, 1U, in, UINT32_MAX), RTL_TOO_BIG);
  ck_assert_uint_eq(rtl_msgring_read_space(ring), 0U);
  ck_assert_int_eq(rtl_msgring_send(ring, 2U, in, 20U), RTL_SUCCESS);
  ck_assert_int_eq(rtl_msgring_send(ring, 3U, in, 1U), RTL_SUCCESS);

  // A body too small for the next message: TOO_BIG, the header says what is
  // needed, and the message stays first in line.
  RtlMsgHeader h = {0U, 0U};
  uint8_t      out[20];
  memset(out, 0xCC, sizeof(out));
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, 19U), RTL_TOO_BIG);
  ck_assert_uint_eq(h.type, 2U);
  ck_assert_uint_eq(h.size, 20U);
  ck_assert_uint_eq(out[0], 0xCCU);
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, NULL, 0U), RTL_TOO_BIG);
  ck_assert_uint_eq(rtl_msgring_read_space(ring), 2U);

  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, 20U), RTL_SUCCESS);
  ck_assert_uint_eq(h.type, 2U);
  ck_assert(payload_ok(out, 5U, 20U));
  ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, 1U), RTL_SUCCESS);
  ck_assert_uint_eq(h.type, 3U);
  ck_assert_uint_eq(h.size, 1U);
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_single_slot)
{
  RtlMsgRing* const ring = new_msgring(1U, 1U);
  ck_assert_uint_eq(rtl_msgring_capacity(ring), 1U);
  for (uint32_t i = 0U; i < 1000U; ++i) {
    const uint8_t b = (uint8_t)(i * 7U);
    ck_assert_uint_eq(rtl_msgring_write_space(ring), 1U);
    ck_assert_int_eq(rtl_msgring_send(ring, i, &b, 1U), RTL_SUCCESS);
    ck_assert_int_eq(rtl_msgring_send(ring, i, &b, 1U), RTL_FULL);
    ck_assert_int_eq(rtl_msgring_send(ring, i, &b, 2U), RTL_TOO_BIG);
    ck_assert_uint_eq(rtl_msgring_write_space(ring), 0U);
    ck_assert_uint_eq(rtl_msgring_read_space(ring), 1U);

    RtlMsgHeader h;
    uint8_t      c = 0U;
    ck_assert_int_eq(rtl_msgring_peek(ring, &h), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, i);
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, &c, 1U), RTL_SUCCESS);
    ck_assert_uint_eq(h.type, i);
    ck_assert_uint_eq(h.size, 1U);
    ck_assert_uint_eq(c, b);
    ck_assert_int_eq(rtl_msgring_recv(ring, &h, &c, 1U), RTL_EMPTY);
  }
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_wrap)
{
  // Fill levels from 1 to n_slots at every starting slot, so every message
  // size crosses the end of the slot array at every position.
  enum { SLOTS = 8, MAXP = 33 };
  RtlMsgRing* const ring = new_msgring(SLOTS, MAXP);
  uint64_t          sent = 0U;
  uint64_t          recv = 0U;
  uint8_t           in[MAXP];
  uint8_t           out[MAXP];
  for (int round = 0; round < 3 * SLOTS; ++round) {
    for (uint64_t fill = 1U; fill <= SLOTS; ++fill) {
      for (uint64_t k = 0U; k < fill; ++k, ++sent) {
        const uint32_t size = (uint32_t)(sent % (MAXP + 1U));
        fill_payload(in, sent, size);
        ck_assert_int_eq(rtl_msgring_send(ring, (uint32_t)sent, in, size),
                         RTL_SUCCESS);
      }
      ck_assert_uint_eq(rtl_msgring_read_space(ring), fill);
      for (uint64_t k = 0U; k < fill; ++k, ++recv) {
        RtlMsgHeader h;
        ck_assert_int_eq(rtl_msgring_recv(ring, &h, out, sizeof(out)),
                         RTL_SUCCESS);
        ck_assert_uint_eq(h.type, (uint32_t)recv);
        ck_assert_uint_eq(h.size, recv % (MAXP + 1U));
        ck_assert(payload_ok(out, recv, h.size));
      }
    }
  }
  ck_assert_uint_eq(sent, recv);
  ck_assert_uint_gt(sent, 100U * SLOTS);
  rtl_msgring_free(ring);
}
END_TEST

// --- threads -------------------------------------------------------------

/*
  Message `seq` carries `size(seq)` bytes (12 to STRESS_MAX): the sequence
  number, bytes derived from it, and a checksum of everything before it.
  The reader checks order, size, type, content and checksum of every one,
  so loss, duplication, reordering and a torn message each show up as a
  distinct count.
*/
#define STRESS_SLOTS 256U
#define STRESS_MAX 64U

typedef struct {
  RtlMsgRing* ring;
  uint64_t    total;
  uint64_t    received;
  uint64_t    out_of_order; // lost, duplicated or reordered
  uint64_t    bad_header;   // type or size not those of the sequence number
  uint64_t    torn;         // content or checksum wrong
  uint64_t    bad_peek;     // peek disagreed with the following recv
  uint64_t    too_big;      // recv into a short buffer that kept the message
  uint64_t    full;         // sends refused because the ring was full
  uint64_t    no_room;      // has_room said no (the has_room writer)
  int         gated;        // the reader waits for `filled` before reading
  atomic_int  filled;       // the writer found the ring full
} StressState;

static uint32_t
stress_size(const uint64_t seq)
{
  const uint32_t r = (uint32_t)((seq * 0x2545F4914F6CDD1DULL) >> 58U);
  return 12U + r % (STRESS_MAX - 11U);
}

static uint32_t
checksum(const uint8_t* const data, const size_t n)
{
  uint32_t h = 2166136261U; // FNV-1a
  for (size_t i = 0U; i < n; ++i) {
    h = (h ^ data[i]) * 16777619U;
  }
  return h;
}

static void
make_message(uint8_t* const buf, const uint64_t seq, const uint32_t size)
{
  memcpy(buf, &seq, sizeof(seq));
  fill_payload(buf + 8, seq, size - 12U);
  const uint32_t sum = checksum(buf, size - 4U);
  memcpy(buf + size - 4U, &sum, sizeof(sum));
}

static void*
stress_writer(void* const arg)
{
  StressState* const s = (StressState*)arg;
  uint8_t            buf[STRESS_MAX];
  for (uint64_t seq = 0U; seq < s->total; ++seq) {
    const uint32_t size = stress_size(seq);
    make_message(buf, seq, size);
    RtlStatus st;
    while ((st = rtl_msgring_send(
              s->ring, (uint32_t)seq ^ 0xA5A5A5A5U, buf, size)) == RTL_FULL) {
      ++s->full;
      sched_yield();
    }
    if (st != RTL_SUCCESS) {
      ++s->bad_header;
      return NULL;
    }
  }
  return NULL;
}

static void*
stress_reader(void* const arg)
{
  StressState* const s        = (StressState*)arg;
  uint64_t           expected = 0U;
  uint8_t            buf[STRESS_MAX];
  while (s->gated && !atomic_load_explicit(&s->filled, memory_order_acquire)) {
    sched_yield();
  }
  while (expected < s->total) {
    RtlMsgHeader h = {0U, 0U};
    RtlStatus    st;
    if ((expected & 15U) == 3U) {
      // Now and then: peek first, and try a buffer one byte short.
      RtlMsgHeader p = {0U, 0U};
      if (rtl_msgring_peek(s->ring, &p) == RTL_SUCCESS) {
        st = rtl_msgring_recv(s->ring, &h, buf, p.size - 1U);
        s->too_big += st == RTL_TOO_BIG;
        s->bad_peek += st != RTL_TOO_BIG || h.size != p.size;
        st = rtl_msgring_recv(s->ring, &h, buf, sizeof(buf));
        s->bad_peek +=
          st != RTL_SUCCESS || h.type != p.type || h.size != p.size;
      } else {
        st = RTL_EMPTY;
      }
    } else {
      st = rtl_msgring_recv(s->ring, &h, buf, sizeof(buf));
    }
    if (st == RTL_EMPTY) {
      sched_yield();
      continue;
    }
    if (st != RTL_SUCCESS || h.size < 12U || h.size > STRESS_MAX) {
      ++s->bad_header;
      ++expected;
      continue;
    }

    uint64_t seq = 0U;
    memcpy(&seq, buf, sizeof(seq));
    uint32_t sum = 0U;
    memcpy(&sum, buf + h.size - 4U, sizeof(sum));
    if (sum != checksum(buf, h.size - 4U) ||
        !payload_ok(buf + 8, seq, h.size - 12U)) {
      ++s->torn;
    }
    if (seq != expected) {
      ++s->out_of_order;
    }
    if (h.size != stress_size(seq) || h.type != ((uint32_t)seq ^ 0xA5A5A5A5U)) {
      ++s->bad_header;
    }
    ++s->received;
    expected = seq + 1U; // resynchronise so one fault counts once
  }
  return NULL;
}

/*
  The audio thread's pattern: ask for room for a batch, then send it.  After
  a yes no send may be refused.  The reader starts only once the writer has
  found the ring full, so a stale cached index is refreshed for certain.
*/
static void*
room_writer(void* const arg)
{
  StressState* const s = (StressState*)arg;
  uint8_t            buf[STRESS_MAX];
  uint64_t           seq = 0U;
  while (seq < s->total) {
    uint64_t batch = 1U + (seq * 0x9E3779B97F4A7C15ULL >> 61U); // 1 to 8
    if (batch > s->total - seq) {
      batch = s->total - seq;
    }
    if (!rtl_msgring_has_room(s->ring, batch)) {
      ++s->no_room;
      atomic_store_explicit(&s->filled, 1, memory_order_release);
      sched_yield();
      continue;
    }
    for (const uint64_t end = seq + batch; seq < end; ++seq) {
      const uint32_t size = stress_size(seq);
      make_message(buf, seq, size);
      RtlStatus st;
      while ((st = rtl_msgring_send(
                s->ring, (uint32_t)seq ^ 0xA5A5A5A5U, buf, size)) == RTL_FULL) {
        // A broken promise: counted, and retried with the reader let in,
        // so that the test fails rather than hangs.
        ++s->full;
        atomic_store_explicit(&s->filled, 1, memory_order_release);
        sched_yield();
      }
      if (st != RTL_SUCCESS) {
        ++s->bad_header;
        return NULL;
      }
    }
  }
  return NULL;
}

/*
  Stream `total` messages through a ring of `n_slots` from `writer` to
  stress_reader and check that each arrived once, in order and whole.  The
  caller checks what is particular to its writer, then frees s->ring.
*/
static void
run_stress(StressState* const s,
           void* (*const writer)(void*),
           const size_t   n_slots,
           const uint64_t total,
           const int      gated)
{
  memset(s, 0, sizeof(*s));
  atomic_init(&s->filled, 0);
  s->gated = gated;
  s->ring  = new_msgring(n_slots, STRESS_MAX);
  s->total = rtl_stress_count(total);

  ck_assert_int_eq(rtl_stress_run(stress_reader, writer, s), 0);

  ck_assert_uint_eq(s->received, s->total);
  ck_assert_uint_eq(s->out_of_order, 0U);
  ck_assert_uint_eq(s->bad_header, 0U);
  ck_assert_uint_eq(s->torn, 0U);
  ck_assert_uint_eq(s->bad_peek, 0U);
  ck_assert_uint_gt(s->too_big, 0U);
  ck_assert_uint_eq(rtl_msgring_read_space(s->ring), 0U);
  ck_assert_uint_eq(rtl_msgring_write_space(s->ring), n_slots);
}

START_TEST(test_has_room_stress)
{
  static StressState s;
  run_stress(&s, room_writer, 64U, 4000000U, 1);
  ck_assert_uint_eq(s.full, 0U);
  ck_assert_uint_gt(s.no_room, 0U);
  ck_assert(rtl_msgring_has_room(s.ring, 64U));
  rtl_msgring_free(s.ring);
}
END_TEST

START_TEST(test_stress)
{
  static StressState s;
  run_stress(&s, stress_writer, STRESS_SLOTS, 10000000U, 0);
  rtl_msgring_free(s.ring);
}
END_TEST

Suite*
rtl_suite_msgring(void)
{
  Suite* const s = suite_create("msgring");

  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_new_rejects_bad_arguments);
  tcase_add_test(core, test_send_recv_round_trip);
  tcase_add_test(core, test_fifo_and_spaces);
  tcase_add_test(core, test_has_room);
  tcase_add_test(core, test_new_allocation_failures);
  tcase_add_test(core, test_lock_memory);
  suite_add_tcase(s, core);

  TCase* const limits = tcase_create("limits");
  tcase_add_test(limits, test_new_slot_size_overflow);
  tcase_add_test(limits, test_empty);
  tcase_add_test(limits, test_full);
  tcase_add_test(limits, test_too_big);
  tcase_add_test(limits, test_single_slot);
  tcase_add_test(limits, test_wrap);
  suite_add_tcase(s, limits);

  TCase* const threads = tcase_create("threads");
  tcase_set_timeout(threads, 300);
  tcase_add_test(threads, test_stress);
  tcase_add_test(threads, test_has_room_stress);
  suite_add_tcase(s, threads);

  return s;
}
