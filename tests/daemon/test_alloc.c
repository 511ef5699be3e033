// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// Every daemon constructor, walked through each of its allocation failures:
// the (i+1)-th allocation fails, the constructor reports it, hands back
// nothing and leaves nothing allocated.

#define _GNU_SOURCE

#include "support/failing_allocator.h"

#include "comm.h"
#include "control.h"
#include "daemon.h"
#include "jack.h"
#include "mixer.h"
#include "nsm.h"
#include "osc.h"
#include "process.h"
#include "recorder.h"
#include "state.h"
#include "worker.h"

#include <rtlane/broadcast.h>
#include <rtlane/queue.h>
#include <rtlane/snapshot.h>

#include <check.h>

#include <fcntl.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

Suite*
rtl_suite_daemon_alloc(void);

/// Build one object (and what it needs) from `alloc`; `*obj` is the result.
typedef RtlStatus (*BuildFunc)(RtlAllocator* alloc, void** obj);

/// Free what BuildFunc built.
typedef void (*DestroyFunc)(void* obj);

/**
   Count the allocations of a build that ends in `final`, then make each in
   turn fail.  `final` is RTL_SUCCESS, or the status a build that cannot
   finish here ends in (no JACK server for the daemon).
*/
static void
walk(const BuildFunc build, const DestroyFunc destroy, const RtlStatus final)
{
  RtlFailingAllocator a   = rtl_failing_allocator();
  void*               obj = NULL;
  ck_assert_int_eq(build(&a.base, &obj), final);
  const size_t n = a.n_allocations;
  ck_assert_uint_ge(n, 1U);
  if (!final) {
    ck_assert_ptr_nonnull(obj);
    destroy(obj);
  }
  ck_assert_uint_eq(a.n_live, 0U);

  for (size_t i = 0U; i < n; ++i) {
    a.n_allocations    = 0U;
    a.n_remaining      = i;
    obj                = &a; // must be overwritten
    const RtlStatus st = build(&a.base, &obj);
    ck_assert_msg(
      st != RTL_SUCCESS, "allocation %zu of %zu failed unseen", i + 1U, n);
    ck_assert_ptr_null(obj);
    // Constructors may try the rest before they give up, never fewer.
    ck_assert_uint_ge(a.n_allocations, i + 1U);
    ck_assert_msg(a.n_live == 0U,
                  "%zu allocations leaked when allocation "
                  "%zu of %zu failed",
                  a.n_live,
                  i + 1U,
                  n);
  }
}

// --- the parts ---------------------------------------------------------------

/// The table every part below is built for: 2 inputs, system allocator.
static RtlParamTable g_table;

static void
setup(void)
{
  ck_assert_int_eq(rtl_param_table_init(NULL, &g_table, 2U), RTL_SUCCESS);
}

static void
teardown(void)
{
  rtl_param_table_destroy(&g_table);
}

static RtlStatus
build_table(RtlAllocator* const alloc, void** const obj)
{
  *obj                   = NULL;
  RtlParamTable* const t = (RtlParamTable*)rtl_malloc(alloc, sizeof(*t));
  if (!t) {
    return RTL_NO_MEM;
  }
  const RtlStatus st = rtl_param_table_init(alloc, t, 2U);
  if (st) {
    rtl_free(alloc, t);
    return st;
  }
  *obj = t;
  return RTL_SUCCESS;
}

static void
destroy_table(void* const obj)
{
  RtlParamTable* const t = (RtlParamTable*)obj;
  RtlAllocator* const  a = t->allocator;
  rtl_param_table_destroy(t);
  rtl_free(a, t);
}

static RtlStatus
build_model(RtlAllocator* const alloc, void** const obj)
{
  *obj              = NULL;
  RtlModel* const m = (RtlModel*)rtl_malloc(alloc, sizeof(*m));
  if (!m) {
    return RTL_NO_MEM;
  }
  if (rtl_model_init(alloc, m, &g_table)) {
    rtl_model_destroy(m);
    rtl_free(alloc, m);
    return RTL_NO_MEM;
  }
  RtlStateSnapshot* const snap = rtl_model_snapshot(m);
  if (!snap) {
    rtl_model_destroy(m);
    rtl_free(alloc, m);
    return RTL_NO_MEM;
  }
  rtl_state_snapshot_free(snap, alloc);
  *obj = m;
  return RTL_SUCCESS;
}

static void
destroy_model(void* const obj)
{
  RtlModel* const     m = (RtlModel*)obj;
  RtlAllocator* const a = m->allocator;
  rtl_model_destroy(m);
  rtl_free(a, m);
}

static RtlStatus
build_mixer(RtlAllocator* const alloc, void** const obj)
{
  return rtl_mixer_new(alloc, &g_table, (RtlMixer**)obj);
}

static void
destroy_mixer(void* const obj)
{
  rtl_mixer_free((RtlMixer*)obj);
}

static RtlStatus
build_ring(RtlAllocator* const alloc, void** const obj)
{
  return rtl_comm_ring_new(alloc, RTL_COMM_CUE, 64U, (RtlMsgRing**)obj);
}

static void
destroy_ring(void* const obj)
{
  rtl_msgring_free((RtlMsgRing*)obj);
}

/// A worker needs a mixer and a cue ring: one object holding all three.
typedef struct {
  RtlAllocator* alloc;
  RtlMixer*     mixer;
  RtlMsgRing*   cues;
  RtlWorker*    worker;
} WorkerRig;

static void
destroy_worker(void* const obj)
{
  WorkerRig* const r = (WorkerRig*)obj;
  rtl_worker_free(r->worker);
  rtl_msgring_free(r->cues);
  rtl_mixer_free(r->mixer);
  rtl_free(r->alloc, r);
}

static RtlStatus
build_worker(RtlAllocator* const alloc, void** const obj)
{
  *obj               = NULL;
  WorkerRig* const r = (WorkerRig*)rtl_calloc(alloc, 1U, sizeof(*r));
  if (!r) {
    return RTL_NO_MEM;
  }
  r->alloc     = alloc;
  RtlStatus st = rtl_mixer_new(alloc, &g_table, &r->mixer);
  if (!st) {
    st = rtl_comm_ring_new(alloc, RTL_COMM_CUE, 64U, &r->cues);
  }
  if (!st) {
    st = rtl_worker_new(alloc, r->mixer, r->cues, NULL, 256U, &r->worker);
  }
  if (st) {
    destroy_worker(r);
    return st;
  }
  *obj = r;
  return RTL_SUCCESS;
}

static RtlStatus
build_process(RtlAllocator* const alloc,
              void** const        obj,
              const double        write_ahead_ms)
{
  const RtlProcessConfig config = {
    alloc,
    &g_table,
    NULL,
    write_ahead_ms,
    NULL,
    NULL,
    100.0,
  };
  RtlStatus st = rtl_process_new(&config, (RtlProcess**)obj);
  if (!st) {
    // In write-ahead mode the engine is built when a client is prepared.
    char err[200];
    st = rtl_process_prepare((RtlProcess*)*obj, 48000U, 256U, err, sizeof(err));
    if (st) {
      rtl_process_free((RtlProcess*)*obj);
      *obj = NULL;
    }
  }
  return st;
}

static RtlStatus
build_process_direct(RtlAllocator* const alloc, void** const obj)
{
  return build_process(alloc, obj, 0.0);
}

static RtlStatus
build_process_wa(RtlAllocator* const alloc, void** const obj)
{
  return build_process(alloc, obj, 50.0);
}

static void
destroy_process(void* const obj)
{
  rtl_process_free((RtlProcess*)obj);
}

static sem_t g_wake;

static RtlStatus
build_jack(RtlAllocator* const alloc, void** const obj)
{
  const RtlJackConfig config = {
    alloc,
    "rtlane-unit",
    NULL,
    2U,
    false,
    NULL,
    &g_wake,
  };
  return rtl_jack_new(&config, (RtlJack**)obj);
}

static void
destroy_jack(void* const obj)
{
  rtl_jack_free((RtlJack*)obj);
}

static RtlStatus
build_osc(RtlAllocator* const alloc, void** const obj)
{
  // Port 0: any free port, so runs in parallel never collide.
  const RtlOscConfig config = {
    alloc,
    "127.0.0.1",
    NULL,
    0U,
    0U,
    true,
    0U,
    &g_table,
    NULL,
    &g_wake,
    NULL,
    NULL,
  };
  char err[256];
  return rtl_osc_open(&config, (RtlOsc**)obj, err, sizeof(err));
}

static void
destroy_osc(void* const obj)
{
  rtl_osc_free((RtlOsc*)obj);
}

/// The control state with what it talks to (built from the system's
/// allocator: only the control's own allocations are walked).
typedef struct {
  RtlQueue*    queue;
  RtlSnapshot* snapshot;
  RtlProcess*  process;
  RtlJack*     jack;
  RtlOsc*      osc;
  RtlControl*  control;
} ControlRig;

static ControlRig g_rig;

static RtlStatus
build_control(RtlAllocator* const alloc, void** const obj)
{
  // Snapshots are the model's: they come from `alloc`, and the holder
  // frees them with it.
  ck_assert_int_eq(
    rtl_snapshot_new(
      NULL, NULL, rtl_state_snapshot_free, alloc, &g_rig.snapshot),
    RTL_SUCCESS);
  const RtlControlConfig config = {
    alloc,
    &g_table,
    g_rig.queue,
    &g_wake,
    g_rig.snapshot,
    g_rig.process,
    g_rig.jack,
    g_rig.osc,
    -1,
    NULL,
    -1,
    NULL,
    RTL_TAKE_MIX,
    0U,
    0U,
  };
  const RtlStatus st = rtl_control_new(&config, (RtlControl**)obj);
  if (st) {
    rtl_snapshot_free(g_rig.snapshot);
  }
  return st;
}

static void
destroy_control(void* const obj)
{
  rtl_control_free((RtlControl*)obj);
  rtl_snapshot_free(g_rig.snapshot);
}

static RtlStatus
build_daemon(RtlAllocator* const alloc, void** const obj)
{
  // No server of this name runs: open builds everything, then fails to
  // connect, and must take it all down again.
  const RtlOptions opts = {
    .name     = "rtlane-unit",
    .server   = "rtlane-unit-no-such-server",
    .inputs   = 2U,
    .osc_port = 0U,
    .osc_bind = "127.0.0.1",
    .osc_tcp  = true,
  };
  char err[256];
  return rtl_daemon_open(alloc, &opts, (RtlDaemon**)obj, err, sizeof(err));
}

static void
destroy_daemon(void* const obj)
{
  rtl_daemon_close((RtlDaemon*)obj);
}

/// A take into a directory of its own, from a ring no thread writes.
static struct {
  RtlBroadcast* ring;
  RtlTakeMarks  marks;
  sem_t         wake;
  int           dir_fd;
  char          dir[64];
  unsigned      n;
} g_take;

static RtlStatus
build_recorder(RtlAllocator* const alloc, void** const obj)
{
  char name[32];
  snprintf(name, sizeof(name), "take-%u.wav", ++g_take.n);
  const RtlRecorderConfig config = {
    alloc,
    g_take.ring,
    &g_take.marks,
    1U,
    g_take.dir_fd,
    name,
    RTL_SAMPLE_FLOAT,
    48000U,
    &g_take.wake,
    0U,
    0U,
  };
  char err[128];
  return rtl_recorder_new(&config, (RtlRecorder**)obj, err, sizeof(err));
}

static void
destroy_recorder(void* const obj)
{
  rtl_recorder_free((RtlRecorder*)obj, true);
}

// --- tests -------------------------------------------------------------------

START_TEST(test_table)
{
  walk(build_table, destroy_table, RTL_SUCCESS);
}
END_TEST

START_TEST(test_model)
{
  walk(build_model, destroy_model, RTL_SUCCESS);
}
END_TEST

START_TEST(test_mixer)
{
  walk(build_mixer, destroy_mixer, RTL_SUCCESS);
}
END_TEST

START_TEST(test_ring)
{
  walk(build_ring, destroy_ring, RTL_SUCCESS);
}
END_TEST

START_TEST(test_worker)
{
  walk(build_worker, destroy_worker, RTL_SUCCESS);
}
END_TEST

START_TEST(test_process)
{
  walk(build_process_direct, destroy_process, RTL_SUCCESS);
  walk(build_process_wa, destroy_process, RTL_SUCCESS);
}
END_TEST

START_TEST(test_jack)
{
  walk(build_jack, destroy_jack, RTL_SUCCESS);
}
END_TEST

START_TEST(test_osc)
{
  walk(build_osc, destroy_osc, RTL_SUCCESS);
}
END_TEST

START_TEST(test_control)
{
  ck_assert_int_eq(sem_init(&g_wake, 0, 0U), 0);
  ck_assert_int_eq(rtl_queue_new(NULL, 64U, sizeof(RtlCommand), &g_rig.queue),
                   RTL_SUCCESS);
  ck_assert_int_eq(build_process_direct(NULL, (void**)&g_rig.process),
                   RTL_SUCCESS);
  ck_assert_int_eq(build_jack(NULL, (void**)&g_rig.jack), RTL_SUCCESS);
  ck_assert_int_eq(build_osc(NULL, (void**)&g_rig.osc), RTL_SUCCESS);
  walk(build_control, destroy_control, RTL_SUCCESS);
  rtl_osc_free(g_rig.osc);
  rtl_jack_free(g_rig.jack);
  rtl_process_free(g_rig.process);
  rtl_queue_free(g_rig.queue);
  sem_destroy(&g_wake);
}
END_TEST

START_TEST(test_recorder)
{
  snprintf(g_take.dir, sizeof(g_take.dir), "/tmp/rtlane-alloc-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(g_take.dir));
  g_take.dir_fd = open(g_take.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(g_take.dir_fd, 0);
  ck_assert_int_eq(sem_init(&g_take.wake, 0, 0U), 0);
  ck_assert_int_eq(rtl_broadcast_new(NULL, 1024U, 2U, &g_take.ring),
                   RTL_SUCCESS);
  walk(build_recorder, destroy_recorder, RTL_SUCCESS);
  rtl_broadcast_free(g_take.ring);
  sem_destroy(&g_take.wake);
  close(g_take.dir_fd);
  // A take that could not be made left nothing behind
  ck_assert_int_eq(rmdir(g_take.dir), 0);
}
END_TEST

START_TEST(test_nsm)
{
  // Its one allocation is its own: a failure is reported before a word is
  // sent to the session manager (liblo allocates the rest itself)
  RtlFailingAllocator a = rtl_failing_allocator();
  a.n_remaining         = 0U;
  RtlNsm*       nsm     = (RtlNsm*)&a;
  RtlNsmSession session;
  char          err[128];
  ck_assert_int_eq(rtl_nsm_open(&a.base,
                                "osc.udp://127.0.0.1:9/",
                                "rtlane",
                                &nsm,
                                &session,
                                err,
                                sizeof(err)),
                   RTL_NO_MEM);
  ck_assert_ptr_null(nsm);
  ck_assert_uint_eq(a.n_live, 0U);
  rtl_nsm_free(NULL);
}
END_TEST

START_TEST(test_daemon)
{
  walk(build_daemon, destroy_daemon, RTL_FAILURE);
}
END_TEST

Suite*
rtl_suite_daemon_alloc(void)
{
  Suite* const s    = suite_create("daemon_alloc");
  TCase* const core = tcase_create("core");
  tcase_add_checked_fixture(core, setup, teardown);
  tcase_add_test(core, test_table);
  tcase_add_test(core, test_model);
  tcase_add_test(core, test_mixer);
  tcase_add_test(core, test_ring);
  tcase_add_test(core, test_worker);
  tcase_add_test(core, test_process);
  tcase_add_test(core, test_jack);
  tcase_add_test(core, test_osc);
  tcase_add_test(core, test_control);
  tcase_add_test(core, test_recorder);
  tcase_add_test(core, test_nsm);
  tcase_add_test(core, test_daemon);
  tcase_set_timeout(core, 60);
  suite_add_tcase(s, core);
  return s;
}
