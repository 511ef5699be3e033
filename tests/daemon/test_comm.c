// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// The typed rings of comm.h and the event list both threads keep.

#include "comm.h"

#include <check.h>
#include <math.h>
#include <string.h>

Suite*
rtl_suite_daemon_comm(void);

START_TEST(test_typed_rings)
{
  RtlMsgRing* ring = NULL;
  ck_assert_int_eq(rtl_comm_ring_new(NULL, RTL_COMM_EVENT, 8U, &ring),
                   RTL_SUCCESS);
  ck_assert_uint_eq(rtl_msgring_max_payload(ring), sizeof(RtlEvent));

  // A stray message of another type or size is skipped, not misread.
  const uint32_t junk = 0xDEADBEEFU;
  ck_assert_int_eq(rtl_msgring_send(ring, RTL_COMM_CUE, &junk, sizeof(junk)),
                   RTL_SUCCESS);
  ck_assert_int_eq(rtl_msgring_send(ring, RTL_COMM_EVENT, &junk, sizeof(junk)),
                   RTL_SUCCESS);
  const RtlEvent ev = {1234U, 3U, -6.0f, 0U, RTL_EV_PARAM, 1U, 0U};
  ck_assert_int_eq(rtl_comm_send_event(ring, &ev), RTL_SUCCESS);
  RtlEvent got;
  ck_assert_int_eq(rtl_comm_recv_event(ring, &got), RTL_SUCCESS);
  ck_assert_uint_eq(got.frame, 1234U);
  ck_assert_float_eq(got.value, -6.0f);
  ck_assert_int_eq(rtl_comm_recv_event(ring, &got), RTL_EMPTY);
  rtl_msgring_free(ring);

  ck_assert_int_eq(rtl_comm_ring_new(NULL, RTL_COMM_NONE, 8U, &ring),
                   RTL_BAD_ARG);
  ck_assert_ptr_null(ring);
}
END_TEST

START_TEST(test_meters_travel_short)
{
  RtlMsgRing* ring = NULL;
  ck_assert_int_eq(rtl_comm_ring_new(NULL, RTL_COMM_METERS, 4U, &ring),
                   RTL_SUCCESS);
  RtlMeterMsg msg = {0};
  msg.frame       = 99U;
  msg.n           = 4U;
  for (unsigned i = 0U; i < 2U * msg.n; ++i) {
    msg.v[i] = -(float)i;
  }
  msg.v[1] = -INFINITY;
  ck_assert_int_eq(rtl_comm_send_meters(ring, &msg), RTL_SUCCESS);
  RtlMsgHeader hdr;
  ck_assert_int_eq(rtl_msgring_peek(ring, &hdr), RTL_SUCCESS);
  // Only the 2n values in use travel.
  ck_assert_uint_eq(hdr.size, offsetof(RtlMeterMsg, v) + 8U * sizeof(float));
  RtlMeterMsg got;
  memset(&got, 0xFF, sizeof(got));
  ck_assert_int_eq(rtl_comm_recv_meters(ring, &got), RTL_SUCCESS);
  ck_assert_uint_eq(got.frame, 99U);
  ck_assert_uint_eq(got.n, 4U);
  ck_assert(isinf(got.v[1]) && got.v[1] < 0.0f);
  ck_assert_float_eq(got.v[7], -7.0f);
  ck_assert_int_eq(rtl_comm_recv_meters(ring, &got), RTL_EMPTY);
  rtl_msgring_free(ring);
}
END_TEST

START_TEST(test_event_list)
{
  RtlEvent list[8];
  unsigned n = 0U;
  // Sorted by frame; equal frames keep their arrival order.
  const uint64_t frames[] = {50U, 10U, 50U, 0U, 10U};
  for (unsigned i = 0U; i < 5U; ++i) {
    const RtlEvent ev = {frames[i], i, 0.0f, 0U, RTL_EV_PARAM, 0U, 0U};
    rtl_events_insert(list, &n, &ev);
  }
  ck_assert_uint_eq(n, 5U);
  const uint32_t order[] = {3U, 1U, 4U, 0U, 2U};
  for (unsigned i = 0U; i < 5U; ++i) {
    ck_assert_uint_eq(list[i].param, order[i]);
  }
  rtl_events_drop_front(list, &n, 2U);
  ck_assert_uint_eq(n, 3U);
  ck_assert_uint_eq(list[0].param, 4U);
  rtl_events_drop_front(list, &n, 0U);
  ck_assert_uint_eq(n, 3U);
  rtl_events_drop_front(list, &n, 3U);
  ck_assert_uint_eq(n, 0U);
}
END_TEST

START_TEST(test_topics)
{
  ck_assert_str_eq(rtl_topic_name(RTL_TOPIC_METERS), "meters");
  ck_assert_str_eq(rtl_topic_name(RTL_TOPIC_STATE), "state");
  ck_assert_str_eq(rtl_topic_name(RTL_TOPIC_RECORD), "record");
  ck_assert_str_eq(rtl_topic_name(RTL_N_TOPICS), "");
}
END_TEST

Suite*
rtl_suite_daemon_comm(void)
{
  Suite* const s    = suite_create("daemon_comm");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_typed_rings);
  tcase_add_test(core, test_meters_travel_short);
  tcase_add_test(core, test_event_list);
  tcase_add_test(core, test_topics);
  suite_add_tcase(s, core);
  return s;
}
