// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// OSC packets in, commands or /error replies out: the validation path the
// UDP and TCP threads share, fed with packets liblo encodes.

#define _GNU_SOURCE

#include "comm.h"
#include "request.h"
#include "state.h"

#include <lo/lo.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite*
rtl_suite_daemon_request(void);

#define MAX_OUT 16U

/// What the sinks saw.
typedef struct {
  RtlCommand cmds[MAX_OUT];
  unsigned   n_cmds;
  char       paths[MAX_OUT][RTL_PATH_MAX];
  char       reasons[MAX_OUT][128];
  unsigned   n_errors;
  bool       full; ///< post answers RTL_FULL
} Sink;

static RtlParamTable g_table;
static Sink          g_sink;

static RtlStatus
post(void* const data, const RtlCommand* const cmd)
{
  Sink* const s = (Sink*)data;
  if (s->full || s->n_cmds == MAX_OUT) {
    return RTL_FULL;
  }
  s->cmds[s->n_cmds++] = *cmd;
  return RTL_SUCCESS;
}

static void
error(void* const             data,
      const RtlOscPeer* const peer,
      const char* const       path,
      const char* const       reason)
{
  Sink* const s = (Sink*)data;
  (void)peer;
  if (s->n_errors < MAX_OUT) {
    snprintf(s->paths[s->n_errors], RTL_PATH_MAX, "%s", path);
    snprintf(s->reasons[s->n_errors], 128, "%s", reason);
    ++s->n_errors;
  }
}

/// Conversions asked for, and whether the clock moves between them.
static unsigned g_tag_calls;
static bool     g_clock_moves;

/// Every tag names frame 1000 (one later per call while the clock moves),
/// and "now" is frame 10.
static bool
tag_to_frame(void* const     data,
             const uint64_t  tag,
             uint64_t* const frame,
             uint64_t* const now)
{
  (void)data;
  (void)tag;
  *frame = 1000U + (g_clock_moves ? g_tag_calls : 0U);
  *now   = 10U;
  ++g_tag_calls;
  return true;
}

static const RtlRequestConfig g_config = {
  &g_table,
  tag_to_frame,
  NULL,
  post,
  error,
  NULL,
  &g_sink,
};

static void
setup(void)
{
  ck_assert_int_eq(rtl_param_table_init(NULL, &g_table, 2U), RTL_SUCCESS);
  memset(&g_sink, 0, sizeof(g_sink));
}

static void
teardown(void)
{
  rtl_param_table_destroy(&g_table);
}

static void
feed(uint8_t* const data, const size_t size)
{
  const RtlOscPeer peer = {RTL_PEER_UDP, 0U, 0U, {{0}}};
  rtl_request_packet(&g_config, &peer, data, size);
}

/// Send `path` with `msg` (freed here) as one packet.
static void
send_msg(const char* const path, const lo_message msg)
{
  size_t         size = 0U;
  uint8_t* const buf  = (uint8_t*)lo_message_serialise(msg, path, NULL, &size);
  ck_assert_ptr_nonnull(buf);
  feed(buf, size);
  free(buf);
  lo_message_free(msg);
}

/// Build a message from a type string and its arguments, as liblo takes them.
#define MSG(path, ...)                                    \
  do {                                                    \
    const lo_message m_ = lo_message_new();               \
    ck_assert_int_eq(lo_message_add(m_, __VA_ARGS__), 0); \
    send_msg((path), m_);                                 \
  } while (0)

static void
expect_error(const char* const path, const char* const reason)
{
  ck_assert_uint_eq(g_sink.n_cmds, 0U);
  ck_assert_uint_eq(g_sink.n_errors, 1U);
  ck_assert_str_eq(g_sink.paths[0], path);
  ck_assert_str_eq(g_sink.reasons[0], reason);
  memset(&g_sink, 0, sizeof(g_sink));
}

static const RtlCommand*
expect_command(const uint32_t kind)
{
  ck_assert_uint_eq(g_sink.n_errors, 0U);
  ck_assert_uint_eq(g_sink.n_cmds, 1U);
  ck_assert_uint_eq(g_sink.cmds[0].kind, kind);
  g_sink.n_cmds = 0U;
  return &g_sink.cmds[0];
}

START_TEST(test_parameters)
{
  MSG("/ch/2/pan", "f", 0.5);
  const RtlCommand* c = expect_command(RTL_CMD_SET);
  ck_assert_uint_eq(c->param, rtl_param_channel_index(1U, RTL_PARAM_CH_PAN));
  ck_assert_float_eq(c->value, 0.5f);
  ck_assert_uint_eq(c->timetag, RTL_TIMETAG_NOW);
  ck_assert_uint_eq(c->frame, 0U);

  MSG("/ch/1/mute", "i", 1);
  c = expect_command(RTL_CMD_SET);
  ck_assert_float_eq(c->value, 1.0f);

  MSG("/ch/1/gain", "s", "-6");
  expect_error("/ch/1/gain", "wrong arguments (expected f)");
  MSG("/ch/1/mute", "s", "on");
  expect_error("/ch/1/mute", "wrong arguments (expected i)");
  MSG("/ch/1/gain", "ff", -6.0, -6.0);
  expect_error("/ch/1/gain", "wrong arguments (expected f)");
  MSG("/ch/1/gain", "f", 12.5);
  expect_error("/ch/1/gain", "out of range");
  MSG("/ch/1/mute", "i", 2);
  expect_error("/ch/1/mute", "out of range");
  MSG("/ch/3/gain", "f", 0.0);
  expect_error("/ch/3/gain", "unknown channel");
  MSG("/ch/1/volume", "f", 0.0);
  expect_error("/ch/1/volume", "unknown address");
  MSG("/save", "i", 1);
  expect_error("/save", "wrong arguments (expected '')");

  // A full queue is "busy", never a silent drop.
  g_sink.full = true;
  MSG("/ch/1/gain", "f", -3.0);
  expect_error("/ch/1/gain", "busy");
}
END_TEST

/// Every numeric type and T/F where a number or a toggle is expected,
/// converted as scsynth does, within the same ranges.
START_TEST(test_coercion)
{
  const unsigned gain = rtl_param_channel_index(0U, RTL_PARAM_CH_GAIN);
  const unsigned mute = rtl_param_channel_index(0U, RTL_PARAM_CH_MUTE);

  MSG("/ch/1/gain", "i", -6);
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, -6.0f);
  MSG("/ch/1/gain", "d", -6.5);
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, -6.5f);
  MSG("/ch/1/gain", "h", (int64_t)-12);
  const RtlCommand* c = expect_command(RTL_CMD_SET);
  ck_assert_uint_eq(c->param, gain);
  ck_assert_float_eq(c->value, -12.0f);
  MSG("/ch/1/gain", "T");
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, 1.0f);
  MSG("/ch/1/gain", "F");
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, 0.0f);

  // A toggle is on from 0.5, and stays within 0..1 whatever the type.
  const struct {
    const char* types;
    double      value;
    float       expect;
  } toggles[] = {
    {"f", 1.0, 1.0f},
    {"f", 0.0, 0.0f},
    {"f", 0.5, 1.0f},
    {"f", 0.49, 0.0f},
    {"d", 0.75, 1.0f},
    {"i", 1.0, 1.0f},
    {"h", 0.0, 0.0f},
  };
  for (size_t i = 0U; i < sizeof(toggles) / sizeof(toggles[0]); ++i) {
    const lo_message msg = lo_message_new();
    switch (toggles[i].types[0]) {
    case 'f':
      lo_message_add_float(msg, (float)toggles[i].value);
      break;
    case 'd':
      lo_message_add_double(msg, toggles[i].value);
      break;
    case 'i':
      lo_message_add_int32(msg, (int32_t)toggles[i].value);
      break;
    default:
      lo_message_add_int64(msg, (int64_t)toggles[i].value);
    }
    send_msg("/ch/1/mute", msg);
    c = expect_command(RTL_CMD_SET);
    ck_assert_uint_eq(c->param, mute);
    ck_assert_float_eq(c->value, toggles[i].expect);
  }
  MSG("/ch/1/mute", "T");
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, 1.0f);
  MSG("/ch/1/mute", "F");
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, 0.0f);

  // Ranges hold for every type; NaN and infinities are no numbers.
  MSG("/ch/1/mute", "f", 1.5);
  expect_error("/ch/1/mute", "out of range");
  MSG("/ch/1/mute", "d", -0.25);
  expect_error("/ch/1/mute", "out of range");
  MSG("/ch/1/mute", "h", (int64_t)2);
  expect_error("/ch/1/mute", "out of range");
  MSG("/ch/1/gain", "d", 1e300);
  expect_error("/ch/1/gain", "out of range");
  MSG("/ch/1/gain", "h", (int64_t)INT64_MIN);
  expect_error("/ch/1/gain", "out of range");
  MSG("/ch/1/gain", "f", (double)NAN);
  expect_error("/ch/1/gain", "not a finite number");
  MSG("/ch/1/gain", "d", (double)INFINITY);
  expect_error("/ch/1/gain", "not a finite number");
  MSG("/ch/1/mute", "f", (double)-INFINITY);
  expect_error("/ch/1/mute", "not a finite number");
  MSG("/ch/1/gain", "N");
  expect_error("/ch/1/gain", "wrong arguments (expected f)");

  // Commands' numbers too: truncated toward zero where an int is meant.
  MSG("/sync", "f", 7.9);
  ck_assert_int_eq(expect_command(RTL_CMD_SYNC)->ival, 7);
  MSG("/sync", "h", (int64_t)1 << 40);
  expect_error("/sync", "out of range (an int32 id)");
  MSG("/latency/set", "i", 20);
  ck_assert_float_eq(expect_command(RTL_CMD_LATENCY_SET)->value, 20.0f);
  MSG("/midi/map", "ds", 7.0, "/ch/1/gain");
  ck_assert_int_eq(expect_command(RTL_CMD_MIDI_MAP)->ival, 7);
  MSG("/midi/map", "fs", (double)NAN, "/ch/1/gain");
  expect_error("/midi/map", "not a finite number");
  MSG("/subscribe", "sf", "meters", 10.0);
  ck_assert_int_eq(expect_command(RTL_CMD_SUBSCRIBE)->hz, 10);
  MSG("/subscribe", "Sd", "meters", 5e9);
  expect_error("/subscribe",
               "rate out of range (" RTL_STR(RTL_METER_HZ_MIN) ".." RTL_STR(
                 RTL_METER_HZ_MAX) " Hz)");
  MSG("/transport/bpm", "i", 90);
  ck_assert_float_eq(expect_command(RTL_CMD_SET)->value, 90.0f);
  MSG("/ping", "T");
  expect_error("/ping", "wrong arguments (expected '')");
}
END_TEST

/// /reply/port is taken by the receiving layer; without one, it is refused.
START_TEST(test_reply_port_unsupported)
{
  MSG("/reply/port", "i", 9000);
  expect_error("/reply/port", "not supported here");
  MSG("/reply/port", "i", 70000);
  expect_error("/reply/port", "out of range (0..65535)");
}
END_TEST

START_TEST(test_commands)
{
  MSG("/ping", "");
  expect_command(RTL_CMD_PING);
  MSG("/sync", "i", 42);
  ck_assert_int_eq(expect_command(RTL_CMD_SYNC)->ival, 42);
  MSG("/get", "s", "/master/gain");
  ck_assert_uint_eq(expect_command(RTL_CMD_GET)->param,
                    rtl_param_master_gain_index(&g_table));
  MSG("/get", "s", "/ch/9/gain");
  expect_error("/get", "unknown channel");
  MSG("/get", "s", "/nothing");
  expect_error("/get", "unknown parameter address");
  MSG("/ping", "i", 1);
  expect_error("/ping", "wrong arguments (expected '')");

  MSG("/latency/set", "f", 50.0);
  ck_assert_float_eq(expect_command(RTL_CMD_LATENCY_SET)->value, 50.0f);
  MSG("/latency/set", "f", (double)RTL_LATENCY_MAX_MS + 1.0);
  expect_error("/latency/set", "out of range (" RTL_LATENCY_RANGE ")");
  MSG("/latency/set", "f", 0.0);
  expect_error("/latency/set", "out of range (" RTL_LATENCY_RANGE ")");

  MSG("/midi/map", "is", 7, "/ch/1/gain");
  const RtlCommand* c = expect_command(RTL_CMD_MIDI_MAP);
  ck_assert_int_eq(c->ival, 7);
  ck_assert_uint_eq(c->param, rtl_param_channel_index(0U, RTL_PARAM_CH_GAIN));
  MSG("/midi/map", "is", 7, "");
  ck_assert_uint_eq(expect_command(RTL_CMD_MIDI_MAP)->param, UINT32_MAX);
  MSG("/midi/map", "is", RTL_MIDI_CC_MAX + 1, "/ch/1/gain");
  expect_error("/midi/map",
               "CC out of range (0.." RTL_STR(RTL_MIDI_CC_MAX) ")");

  // Strings longer than RTL_PATH_MAX_LEN are refused whatever they are.
  char long_string[RTL_PATH_MAX + 1U];
  memset(long_string, 'x', sizeof(long_string) - 1U);
  long_string[RTL_PATH_MAX] = '\0';
  MSG("/get", "s", long_string);
  expect_error("/get",
               "string too long (at most " RTL_STR(RTL_PATH_MAX_LEN) " bytes)");
  long_string[RTL_PATH_MAX_LEN] = '\0';
  MSG("/get", "s", long_string);
  expect_error("/get", "unknown parameter address");
}
END_TEST

START_TEST(test_record)
{
  MSG("/record/start", "s", "take.wav");
  const RtlCommand* cmd = expect_command(RTL_CMD_RECORD_START);
  ck_assert_str_eq(cmd->text, "take.wav");
  ck_assert_int_eq(cmd->ival, RTL_TAKE_MIX);
  MSG("/record/start", "ss", "stems.wav", "inputs");
  cmd = expect_command(RTL_CMD_RECORD_START);
  ck_assert_str_eq(cmd->text, "stems.wav");
  ck_assert_int_eq(cmd->ival, RTL_TAKE_INPUTS);
  MSG("/record/start", "ss", "x.wav", "stems");
  expect_error("/record/start", "unknown take (mix or inputs)");
  MSG("/record/start", "s", "");
  expect_error("/record/start", "empty file name");
  MSG("/record/start", "");
  expect_error("/record/start", "wrong arguments (expected 's')");
  MSG("/record/stop", "");
  ck_assert_int_eq(expect_command(RTL_CMD_RECORD_STOP)->ival, -1);
  MSG("/record/stop", "s", "inputs");
  ck_assert_int_eq(expect_command(RTL_CMD_RECORD_STOP)->ival, RTL_TAKE_INPUTS);
  MSG("/record/stop", "i", 1);
  expect_error("/record/stop", "wrong arguments (expected '')");
  MSG("/record/status", "");
  expect_command(RTL_CMD_RECORD_STATUS);
  MSG("/record/format", "s", "24");
  ck_assert_int_eq(expect_command(RTL_CMD_RECORD_FORMAT)->ival, RTL_SAMPLE_24);
  MSG("/record/format", "s", "float");
  ck_assert_int_eq(expect_command(RTL_CMD_RECORD_FORMAT)->ival,
                   RTL_SAMPLE_FLOAT);
  MSG("/record/format", "s", "32");
  expect_error("/record/format", "unknown format (float, 24 or 16)");
  MSG("/save", "");
  ck_assert_str_eq(expect_command(RTL_CMD_SAVE)->text, "");
  MSG("/load", "s", "live.state");
  ck_assert_str_eq(expect_command(RTL_CMD_LOAD)->text, "live.state");
  MSG("/load", "s", "");
  expect_error("/load", "empty file name");
}
END_TEST

START_TEST(test_transport_paths)
{
  // One mapping between operations and addresses, both ways.
  for (uint32_t op = 1U; op <= RTL_N_TRANSPORT_OPS; ++op) {
    const char* const path = rtl_transport_path(op);
    ck_assert_uint_gt(strlen(path), 0U);
    MSG(path, "");
    ck_assert_int_eq(expect_command(RTL_CMD_TRANSPORT)->ival, (int32_t)op);
  }
  ck_assert_str_eq(rtl_transport_path(0U), "");
  ck_assert_str_eq(rtl_transport_path(RTL_N_TRANSPORT_OPS + 1U), "");
  ck_assert_str_eq(rtl_transport_path(RTL_TRANSPORT_STOP), "/transport/stop");
}
END_TEST

START_TEST(test_subscribe)
{
  MSG("/subscribe", "s", "meters");
  const RtlCommand* c = expect_command(RTL_CMD_SUBSCRIBE);
  ck_assert_int_eq(c->ival, RTL_TOPIC_METERS);
  ck_assert_int_eq(c->hz, RTL_METER_HZ_DEFAULT);
  ck_assert_uint_eq(c->flags, 0U);
  MSG("/subscribe", "si", "meters", RTL_METER_HZ_MAX);
  ck_assert_int_eq(expect_command(RTL_CMD_SUBSCRIBE)->hz, RTL_METER_HZ_MAX);
  MSG("/subscribe", "sis", "meters", 10, "rms");
  c = expect_command(RTL_CMD_SUBSCRIBE);
  ck_assert_int_eq(c->hz, 10);
  ck_assert_uint_eq(c->flags, RTL_SUBSCRIBE_RMS);
  MSG("/subscribe", "ss", "meters", "rms");
  ck_assert_uint_eq(expect_command(RTL_CMD_SUBSCRIBE)->flags,
                    RTL_SUBSCRIBE_RMS);
  MSG("/subscribe", "s", "state");
  ck_assert_int_eq(expect_command(RTL_CMD_SUBSCRIBE)->ival, RTL_TOPIC_STATE);
  MSG("/unsubscribe", "s", "record");
  ck_assert_int_eq(expect_command(RTL_CMD_UNSUBSCRIBE)->ival, RTL_TOPIC_RECORD);

  MSG("/subscribe", "si", "meters", RTL_METER_HZ_MAX + 1);
  expect_error("/subscribe",
               "rate out of range (" RTL_STR(RTL_METER_HZ_MIN) ".." RTL_STR(
                 RTL_METER_HZ_MAX) " Hz)");
  MSG("/subscribe", "si", "meters", RTL_METER_HZ_MIN - 1);
  ck_assert_uint_eq(g_sink.n_errors, 1U);
  memset(&g_sink, 0, sizeof(g_sink));
  MSG("/subscribe", "ss", "meters", "peak");
  expect_error("/subscribe", "wrong arguments");
  MSG("/subscribe", "ss", "state", "rms");
  expect_error("/subscribe", "wrong arguments");
  MSG("/subscribe", "s", "bogus");
  expect_error("/subscribe", "unknown topic (meters, state or record)");
  MSG("/subscribe", "sii", "meters", 10, 10);
  expect_error("/subscribe", "wrong arguments (expected 's')");
  MSG("/unsubscribe", "si", "meters", 10);
  expect_error("/unsubscribe", "wrong arguments (expected 's')");
}
END_TEST

/// A bundle of `n` messages /ch/1/gain f -i, time-tagged `tag`.
static lo_bundle
gain_bundle(const unsigned n, const lo_timetag tag)
{
  const lo_bundle b = lo_bundle_new(tag);
  for (unsigned i = 0U; i < n; ++i) {
    const lo_message m = lo_message_new();
    lo_message_add_float(m, -(float)i);
    lo_bundle_add_message(b, "/ch/1/gain", m);
  }
  return b;
}

static void
send_bundle(const lo_bundle b, const size_t cut)
{
  size_t         size = 0U;
  uint8_t* const buf  = (uint8_t*)lo_bundle_serialise(b, NULL, &size);
  ck_assert_ptr_nonnull(buf);
  feed(buf, size - cut);
  free(buf);
  lo_bundle_free_recursive(b);
}

START_TEST(test_bundles)
{
  // Elements in order; a future tag becomes the frame it names.
  const lo_timetag later = {4000000000U, 0U};
  send_bundle(gain_bundle(3U, later), 0U);
  ck_assert_uint_eq(g_sink.n_errors, 0U);
  ck_assert_uint_eq(g_sink.n_cmds, 3U);
  for (unsigned i = 0U; i < 3U; ++i) {
    ck_assert_float_eq(g_sink.cmds[i].value, -(float)i);
    ck_assert_uint_eq(g_sink.cmds[i].frame, 1000U);
    ck_assert_uint_eq(g_sink.cmds[i].timetag, (uint64_t)4000000000U << 32U);
  }
  memset(&g_sink, 0, sizeof(g_sink));

  // One tag, one frame: the clock mapping moving between the elements of a
  // bundle must not split them over two frames.
  g_clock_moves = true;
  g_tag_calls   = 0U;
  send_bundle(gain_bundle(3U, later), 0U);
  g_clock_moves = false;
  ck_assert_uint_eq(g_sink.n_cmds, 3U);
  ck_assert_uint_eq(g_tag_calls, 1U);
  for (unsigned i = 0U; i < 3U; ++i) {
    ck_assert_uint_eq(g_sink.cmds[i].frame, 1000U);
  }
  memset(&g_sink, 0, sizeof(g_sink));

  // A truncated bundle: the whole elements before the cut still apply.
  send_bundle(gain_bundle(3U, LO_TT_IMMEDIATE), 8U);
  ck_assert_uint_eq(g_sink.n_cmds, 2U);
  ck_assert_uint_eq(g_sink.cmds[0].frame, 0U);
  ck_assert_uint_eq(g_sink.n_errors, 1U);
  ck_assert_str_eq(g_sink.paths[0], "#bundle");
  ck_assert_str_eq(g_sink.reasons[0], "malformed bundle");
  memset(&g_sink, 0, sizeof(g_sink));

  // Nesting: as deep as allowed works, one more is refused.
  lo_bundle b = gain_bundle(1U, LO_TT_IMMEDIATE);
  for (unsigned d = 1U; d < RTL_REQUEST_MAX_DEPTH; ++d) {
    const lo_bundle outer = lo_bundle_new(LO_TT_IMMEDIATE);
    lo_bundle_add_bundle(outer, b);
    b = outer;
  }
  size_t   size = 0U;
  uint8_t* buf  = (uint8_t*)lo_bundle_serialise(b, NULL, &size);
  feed(buf, size);
  free(buf);
  ck_assert_uint_eq(g_sink.n_cmds, 1U);
  ck_assert_uint_eq(g_sink.n_errors, 0U);
  memset(&g_sink, 0, sizeof(g_sink));
  const lo_bundle deeper = lo_bundle_new(LO_TT_IMMEDIATE);
  lo_bundle_add_bundle(deeper, b);
  send_bundle(deeper, 0U);
  expect_error("#bundle", "bundles nested too deep");
}
END_TEST

START_TEST(test_malformed)
{
  // Not a path: the reply names what it got, if that is a string at all.
  uint8_t junk[16] = "not osc at all!";
  feed(junk, sizeof(junk));
  expect_error("not osc at all!", "malformed packet");
  feed(junk, 3U);
  expect_error("", "malformed packet");
  uint8_t path_only[8] = "/ping";
  feed(path_only, sizeof(path_only));
  ck_assert_uint_eq(g_sink.n_errors, 1U);
  ck_assert_str_eq(g_sink.paths[0], "/ping");
  memset(&g_sink, 0, sizeof(g_sink));
  uint8_t unterminated[8] = {'/', 'p', 'i', 'n', 'g', '!', '!', '!'};
  feed(unterminated, sizeof(unterminated));
  expect_error("", "malformed packet");
}
END_TEST

Suite*
rtl_suite_daemon_request(void)
{
  Suite* const s    = suite_create("daemon_request");
  TCase* const core = tcase_create("core");
  tcase_add_checked_fixture(core, setup, teardown);
  tcase_add_test(core, test_parameters);
  tcase_add_test(core, test_coercion);
  tcase_add_test(core, test_reply_port_unsupported);
  tcase_add_test(core, test_commands);
  tcase_add_test(core, test_record);
  tcase_add_test(core, test_transport_paths);
  tcase_add_test(core, test_subscribe);
  tcase_add_test(core, test_bundles);
  tcase_add_test(core, test_malformed);
  suite_add_tcase(s, core);
  return s;
}
