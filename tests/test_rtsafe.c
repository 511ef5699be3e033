// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// Every function the headers mark RTL_RT_API (RTL_REALTIME) is called here
// with the allocation trap armed: none of them may allocate or free.  A
// positive control proves the trap sees allocations at all, and
// scripts/check-rtsafe (make check-rtsafe) fails if a function so declared
// is not called directly between rtl_alloc_trap_arm() and disarm() below.
//
// Results of pure and const functions go to `sink`: a call to one whose
// result is unused may be removed by the compiler, and would prove nothing.

#include "support/alloc_trap.h"

#include <rtlane/broadcast.h>
#include <rtlane/engine.h>
#include <rtlane/meter.h>
#include <rtlane/msgring.h>
#include <rtlane/queue.h>
#include <rtlane/ring.h>
#include <rtlane/snapshot.h>
#include <rtlane/status.h>
#include <rtlane/writeahead.h>

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

Suite*
rtl_suite_rtsafe(void);

static volatile double sink;

#define USE(x) (sink += (double)(x))

START_TEST(test_trap_sees_allocations)
{
  rtl_alloc_trap_arm();
  void* const volatile p = malloc(32U);
  free(p);
  ck_assert_uint_eq(rtl_alloc_trap_disarm(), 2U);
}
END_TEST

START_TEST(test_rings_do_not_allocate)
{
  RtlRing*    ring = NULL;
  RtlMsgRing* msgs = NULL;
  RtlQueue*   q    = NULL;
  ck_assert_int_eq(rtl_ring_new(NULL, 1024U, &ring), RTL_SUCCESS);
  ck_assert_int_eq(rtl_msgring_new(NULL, 64U, 32U, &msgs), RTL_SUCCESS);
  ck_assert_int_eq(rtl_queue_new(NULL, 64U, 24U, &q), RTL_SUCCESS);

  uint8_t        buf[256] = {1, 2, 3};
  RtlRingRegions regions;
  RtlMsgHeader   header;

  rtl_alloc_trap_arm();
  for (int i = 0; i < 100; ++i) {
    (void)rtl_ring_write(ring, buf, 200U);
    (void)rtl_ring_peek(ring, buf, 10U);
    (void)rtl_ring_skip(ring, 10U);
    (void)rtl_ring_read(ring, buf, 190U);
    (void)rtl_ring_write_regions(ring, 100U, &regions);
    rtl_ring_write_commit(ring, 100U);
    (void)rtl_ring_read_regions(ring, 100U, &regions);
    rtl_ring_read_commit(ring, 100U);
    (void)rtl_ring_read_space(ring);
    (void)rtl_ring_write_space(ring);
    USE(rtl_ring_has_room(ring, 100U));
    USE(rtl_ring_has_room(ring, 2000U)); // the refreshing path too
    USE(rtl_ring_capacity(ring));

    (void)rtl_msgring_send(msgs, 7U, buf, 16U);
    (void)rtl_msgring_peek(msgs, &header);
    (void)rtl_msgring_recv(msgs, &header, buf, sizeof(buf));
    (void)rtl_msgring_read_space(msgs);
    (void)rtl_msgring_write_space(msgs);
    USE(rtl_msgring_has_room(msgs, 8U));
    USE(rtl_msgring_has_room(msgs, 100U)); // the refreshing path too
    USE(rtl_msgring_capacity(msgs));
    USE(rtl_msgring_max_payload(msgs));

    (void)rtl_queue_push(q, buf);
    (void)rtl_queue_pop(q, buf);
    (void)rtl_queue_size(q);
    USE(rtl_queue_capacity(q));
    USE(rtl_queue_elem_size(q));
    USE(rtl_strerror(RTL_FULL) != NULL);
  }
  ck_assert_uint_eq(rtl_alloc_trap_disarm(), 0U);

  rtl_queue_free(q);
  rtl_msgring_free(msgs);
  rtl_ring_free(ring);
}
END_TEST

START_TEST(test_audio_paths_do_not_allocate)
{
  enum { N = 256 };
  RtlBroadcast*       bcast  = NULL;
  RtlBroadcastReader* reader = NULL;
  RtlWriteAhead*      wa     = NULL;
  ck_assert_int_eq(rtl_broadcast_new(NULL, 1024U, 2U, &bcast), RTL_SUCCESS);
  ck_assert_int_eq(rtl_broadcast_reader_new(bcast, NULL, &reader), RTL_SUCCESS);
  ck_assert_int_eq(rtl_writeahead_new(NULL, 2U, 4096U, 512U, &wa), RTL_SUCCESS);

  static float left[N];
  static float right[N];
  static float frames[2 * N];
  for (size_t i = 0U; i < N; ++i) {
    left[i]  = (float)i / (float)N;
    right[i] = -left[i];
  }
  const float* const in[2]  = {left, right};
  float* const       out[2] = {left, right};
  RtlMeter           meter;
  rtl_meter_init(&meter, 48000.0, 20.0, 300.0);
  RtlWriteAheadStats stats;
  uint64_t           lost = 0U;

  rtl_alloc_trap_arm();
  for (int i = 0; i < 100; ++i) {
    rtl_broadcast_write_planar(bcast, in, N);
    rtl_broadcast_write(bcast, frames, N);
    (void)rtl_broadcast_read(reader, frames, N, &lost);
    (void)rtl_broadcast_reader_available(reader);
    USE(rtl_broadcast_reader_position(reader));
    USE(rtl_broadcast_reader_lost(reader));
    USE(rtl_broadcast_position(bcast));
    USE(rtl_broadcast_capacity(bcast));
    USE(rtl_broadcast_channels(bcast));

    (void)rtl_writeahead_write(wa, in, N);
    (void)rtl_writeahead_read(wa, out, N);
    (void)rtl_writeahead_fill(wa);
    rtl_writeahead_stats(wa, &stats);
    USE(rtl_writeahead_write_space(wa));
    USE(rtl_writeahead_latency(wa));
    USE(rtl_writeahead_capacity(wa));
    USE(rtl_writeahead_channels(wa));

    rtl_meter_process(&meter, left, N);
    USE(rtl_meter_peak_db(&meter));
    USE(rtl_meter_rms_db(&meter));
    if (i % 10 == 9) {
      rtl_meter_reset(&meter);
    }
    USE(rtl_block_peak(left, N));
    USE(rtl_block_rms(left, N));
    USE(rtl_db_to_gain((float)-i));
    USE(rtl_gain_to_db(0.5f + (float)i));
  }
  ck_assert_uint_eq(rtl_alloc_trap_disarm(), 0U);

  rtl_writeahead_free(wa);
  rtl_broadcast_reader_free(reader);
  rtl_broadcast_free(bcast);
}
END_TEST

/*
  What the processor does is beside the point here: it runs on the worker,
  which the trap does not watch.  The audio thread's side of the engine is
  what is tested, so the processor only keeps the outputs defined.
*/
static void
quiet_process(void* const               self,
              const float* const* const in,
              float* const* const       out,
              const RtlMidiEvent* const events,
              const uint32_t            n_events,
              const uint32_t            n_frames)
{
  (void)self;
  (void)in;
  (void)events;
  (void)n_events;
  memset(out[0], 0, n_frames * sizeof(float));
  memset(out[1], 0, n_frames * sizeof(float));
}

START_TEST(test_engine_process_does_not_allocate)
{
  enum { N = 64 };
  const RtlProcessor p = {
    RTL_PROCESSOR_ABI_VERSION,
    "quiet",
    0U,
    NULL,
    quiet_process,
    NULL,
    NULL,
  };
  RtlEngineConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.n_inputs    = 2U;
  cfg.n_outputs   = 2U;
  cfg.sample_rate = 48000.0;
  cfg.max_block   = N;
  cfg.latency     = 512U;
  RtlEngine* e    = NULL;
  ck_assert_int_eq(rtl_engine_new(NULL, &cfg, &p, &e), RTL_SUCCESS);

  static float       in_l[N];
  static float       in_r[N];
  static float       out_l[N];
  static float       out_r[N];
  const float* const in[2]  = {in_l, in_r};
  float* const       out[2] = {out_l, out_r};
  RtlMidiEvent       midi_in[2];
  RtlMidiEvent       midi_out[4];
  memset(midi_in, 0, sizeof(midi_in));
  midi_in[0].size    = 3U;
  midi_in[0].data[0] = 0x90U;
  midi_in[1].frame   = 10U;
  midi_in[1].size    = 3U;
  midi_in[1].data[0] = 0x80U;
  RtlEngineStats  stats;
  RtlEngineConfig got;
  uint32_t        n_midi_out = 0U;

  // Stopped (the buffer's silence), then running with the worker, then
  // stopped again and draining: each is a path the audio thread takes.
  for (int round = 0; round < 3; ++round) {
    if (round == 1) {
      ck_assert_int_eq(rtl_engine_start(e), RTL_SUCCESS);
    } else if (round == 2) {
      rtl_engine_stop(e);
    }
    rtl_alloc_trap_arm();
    for (int i = 0; i < 200; ++i) {
      rtl_engine_process(e, in, out, midi_in, 2U, midi_out, 4U, &n_midi_out, N);
      USE(rtl_engine_latency(e));
      rtl_engine_stats(e, &stats);
      rtl_engine_config(e, &got);
    }
    ck_assert_uint_eq(rtl_alloc_trap_disarm(), 0U);
  }
  ck_assert_uint_eq(got.latency, 512U);
  rtl_engine_free(e);
}
END_TEST

static void
free_state(void* const state, void* const user_data)
{
  (void)user_data;
  free(state);
}

START_TEST(test_snapshot_read_does_not_allocate)
{
  RtlSnapshot* snap  = NULL;
  int* const   state = (int*)calloc(1U, sizeof(int));
  ck_assert_int_eq(rtl_snapshot_new(NULL, state, free_state, NULL, &snap),
                   RTL_SUCCESS);

  // Registration is where per-thread setup happens, outside the RT path.
  rtl_snapshot_register_thread();
  int sum = 0;
  rtl_alloc_trap_arm();
  for (int i = 0; i < 1000; ++i) {
    const int* const s = (const int*)rtl_snapshot_read_begin(snap);
    sum += *s;
    rtl_snapshot_read_end(snap);
  }
  ck_assert_uint_eq(rtl_alloc_trap_disarm(), 0U);
  ck_assert_int_eq(sum, 0);
  rtl_snapshot_unregister_thread();
  rtl_snapshot_free(snap);
}
END_TEST

Suite*
rtl_suite_rtsafe(void)
{
  Suite* const s    = suite_create("rtsafe");
  TCase* const core = tcase_create("core");
  if (!rtl_alloc_trap_available()) {
    // Sanitizer builds replace the allocator; the plain build runs these.
    suite_add_tcase(s, core);
    return s;
  }
  tcase_add_test(core, test_trap_sees_allocations);
  tcase_add_test(core, test_rings_do_not_allocate);
  tcase_add_test(core, test_audio_paths_do_not_allocate);
  tcase_add_test(core, test_engine_process_does_not_allocate);
  tcase_add_test(core, test_snapshot_read_does_not_allocate);
  suite_add_tcase(s, core);
  return s;
}
