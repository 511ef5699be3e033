// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// The patchbay's decisions against a pretend JACK graph: what is
// remembered, what is forgotten, and what is made again.

#include "support/failing_allocator.h"

#include "patchbay.h"

#include <check.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

Suite*
rtl_suite_daemon_patchbay(void);

#define SEC 1000000000LL

/// The pretend graph: ports that exist, and our connections.
typedef struct {
  const char* ports[8];
  char        conns[8][64]; ///< "ours|peer"
  unsigned    n_conns;
  unsigned    connects; ///< connect() calls
} Graph;

static bool
g_exists(void* const data, const char* const port)
{
  const Graph* const g = (const Graph*)data;
  for (unsigned i = 0U; i < 8U && g->ports[i]; ++i) {
    if (!strcmp(g->ports[i], port)) {
      return true;
    }
  }
  return false;
}

static int
g_find(const Graph* const g, const char* const ours, const char* const peer)
{
  char key[64];
  snprintf(key, sizeof(key), "%s|%s", ours, peer);
  for (unsigned i = 0U; i < g->n_conns; ++i) {
    if (!strcmp(g->conns[i], key)) {
      return (int)i;
    }
  }
  return -1;
}

static bool
g_connected(void* const data, const char* const ours, const char* const peer)
{
  return g_find((const Graph*)data, ours, peer) >= 0;
}

static bool
g_connect(void* const       data,
          const char* const ours,
          const char* const peer,
          const bool        out)
{
  Graph* const g = (Graph*)data;
  (void)out;
  ++g->connects;
  if (!g_exists(g, peer) || g->n_conns == 8U) {
    return false;
  }
  snprintf(g->conns[g->n_conns++], sizeof(g->conns[0]), "%s|%s", ours, peer);
  return true;
}

static void
g_disconnect(Graph* const g, const char* const ours, const char* const peer)
{
  const int i = g_find(g, ours, peer);
  if (i >= 0) {
    memcpy(g->conns[i], g->conns[--g->n_conns], sizeof(g->conns[0]));
  }
}

static Graph          g_graph;
static RtlPatchbayOps g_ops;
static RtlPatchbay*   g_pb;

static void
setup(void)
{
  memset(&g_graph, 0, sizeof(g_graph));
  g_graph.ports[0] = "synth:out";
  g_graph.ports[1] = "system:playback_1";
  g_ops = (RtlPatchbayOps){&g_graph, g_exists, g_connected, g_connect};
  ck_assert_int_eq(rtl_patchbay_new(NULL, &g_pb), RTL_SUCCESS);
}

static void
teardown(void)
{
  rtl_patchbay_free(g_pb);
}

static unsigned
remembered(void)
{
  unsigned made = 0U;
  return rtl_patchbay_count(g_pb, &g_ops, &made);
}

/// Both connections made, and the patchbay told.
static void
connect_two(void)
{
  g_connect(&g_graph, "in_1", "synth:out", false);
  g_connect(&g_graph, "out_L", "system:playback_1", true);
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, true);
  rtl_patchbay_on_connect(g_pb, "out_L", "system:playback_1", true, true);
  rtl_patchbay_follow(g_pb, &g_ops, 1 * SEC);
  ck_assert_uint_eq(remembered(), 2U);
}

START_TEST(test_user_disconnect_forgets)
{
  connect_two();
  g_disconnect(&g_graph, "in_1", "synth:out");
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, false);
  rtl_patchbay_follow(g_pb, &g_ops, 2 * SEC);
  ck_assert_uint_eq(remembered(), 2U); // Not judged before a second
  rtl_patchbay_follow(g_pb, &g_ops, 3 * SEC + 1);
  ck_assert_uint_eq(remembered(), 1U);
  // The peer registering again does not bring it back
  rtl_patchbay_on_register(g_pb, "synth:out", true);
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 4 * SEC), 0U);
  ck_assert_int_lt(g_find(&g_graph, "in_1", "synth:out"), 0);
}
END_TEST

START_TEST(test_peer_that_left_is_let_go)
{
  connect_two();
  // The synth quits while the server runs: disconnected, then unregistered
  g_disconnect(&g_graph, "in_1", "synth:out");
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, false);
  rtl_patchbay_on_register(g_pb, "synth:out", false);
  g_graph.ports[0] = "other:port";
  rtl_patchbay_follow(g_pb, &g_ops, 2 * SEC);
  ck_assert_uint_eq(remembered(), 2U); // Not before a second
  rtl_patchbay_follow(g_pb, &g_ops, 4 * SEC);
  ck_assert_uint_eq(remembered(), 1U);
  // A new synth of the same name is not patched as the old one was
  g_graph.ports[0] = "synth:out";
  rtl_patchbay_on_register(g_pb, "synth:out", true);
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 5 * SEC), 0U);
  ck_assert_int_lt(g_find(&g_graph, "in_1", "synth:out"), 0);
}
END_TEST

START_TEST(test_peer_that_left_unreported_is_let_go)
{
  connect_two();
  // The synth quits, and JACK's news of it could not be read (its ports
  // were gone by then): the graph alone shows it
  g_disconnect(&g_graph, "in_1", "synth:out");
  g_graph.ports[0] = "other:port";
  rtl_patchbay_follow(g_pb, &g_ops, 2 * SEC);
  ck_assert_uint_eq(remembered(), 2U); // Not before a second
  rtl_patchbay_follow(g_pb, &g_ops, 3 * SEC + 1);
  ck_assert_uint_eq(remembered(), 1U);
  g_graph.ports[0] = "synth:out";
  rtl_patchbay_on_register(g_pb, "synth:out", true);
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 4 * SEC), 0U);
  ck_assert_int_lt(g_find(&g_graph, "in_1", "synth:out"), 0);

  // Likewise a connection someone broke, unreported, with the peer staying
  g_disconnect(&g_graph, "out_L", "system:playback_1");
  rtl_patchbay_follow(g_pb, &g_ops, 5 * SEC);
  rtl_patchbay_on_register(g_pb, "synth:out", true);
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 6 * SEC + 1), 0U);
  ck_assert_uint_eq(remembered(), 0U);
}
END_TEST

START_TEST(test_server_closing_its_clients)
{
  connect_two();
  // A server shutting down closes the synth, then goes away itself
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, false);
  rtl_patchbay_on_register(g_pb, "synth:out", false);
  rtl_patchbay_follow(g_pb, &g_ops, 1 * SEC + 1000);
  g_graph.n_conns  = 0U;
  g_graph.ports[0] = "gone:port";
  rtl_patchbay_restart(g_pb); // The server is back, without the synth
  rtl_patchbay_follow(g_pb, &g_ops, 5 * SEC);
  ck_assert_uint_eq(remembered(), 2U);
  g_graph.ports[0] = "synth:out";
  rtl_patchbay_on_register(g_pb, "synth:out", true);
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 6 * SEC), 1U);
  ck_assert_int_ge(g_find(&g_graph, "in_1", "synth:out"), 0);
}
END_TEST

START_TEST(test_server_restart_restores)
{
  connect_two();
  // The server dies: whatever it reported on its way out is forgotten news
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, false);
  g_graph.n_conns = 0U;
  rtl_patchbay_restart(g_pb);
  // Only the system ports are back so far
  g_graph.ports[0] = "gone:port";
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 10 * SEC), 1U);
  ck_assert_int_ge(g_find(&g_graph, "out_L", "system:playback_1"), 0);
  rtl_patchbay_follow(g_pb, &g_ops, 20 * SEC);
  ck_assert_uint_eq(remembered(), 2U);
  g_graph.ports[0] = "synth:out";
  rtl_patchbay_on_register(g_pb, "synth:out", true);
  ck_assert_uint_eq(rtl_patchbay_follow(g_pb, &g_ops, 21 * SEC), 1U);
  unsigned made = 0U;
  ck_assert_uint_eq(rtl_patchbay_count(g_pb, &g_ops, &made), 2U);
  ck_assert_uint_eq(made, 2U);
}
END_TEST

START_TEST(test_reconnected_in_time_is_kept)
{
  connect_two();
  g_disconnect(&g_graph, "in_1", "synth:out");
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, false);
  g_connect(&g_graph, "in_1", "synth:out", false);
  rtl_patchbay_on_connect(g_pb, "in_1", "synth:out", false, true);
  rtl_patchbay_follow(g_pb, &g_ops, 2 * SEC);
  rtl_patchbay_follow(g_pb, &g_ops, 5 * SEC);
  ck_assert_uint_eq(remembered(), 2U);
}
END_TEST

START_TEST(test_failing_allocator)
{
  RtlFailingAllocator a = rtl_failing_allocator();
  a.n_remaining         = 0U;
  RtlPatchbay* p        = g_pb;
  ck_assert_int_eq(rtl_patchbay_new(&a.base, &p), RTL_NO_MEM);
  ck_assert_ptr_null(p);
  ck_assert_uint_eq(a.n_live, 0U);
  rtl_patchbay_free(NULL);
}
END_TEST

Suite*
rtl_suite_daemon_patchbay(void)
{
  Suite* const s    = suite_create("daemon_patchbay");
  TCase* const core = tcase_create("core");
  tcase_add_checked_fixture(core, setup, teardown);
  tcase_add_test(core, test_user_disconnect_forgets);
  tcase_add_test(core, test_peer_that_left_is_let_go);
  tcase_add_test(core, test_peer_that_left_unreported_is_let_go);
  tcase_add_test(core, test_server_closing_its_clients);
  tcase_add_test(core, test_server_restart_restores);
  tcase_add_test(core, test_reconnected_in_time_is_kept);
  tcase_add_test(core, test_failing_allocator);
  suite_add_tcase(s, core);
  return s;
}
