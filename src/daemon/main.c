// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "command.h"
#include "control.h"
#include "jack.h"
#include "log.h"
#include "options.h"
#include "osc.h"
#include "process.h"
#include "state.h"

#include <rtlane/processor.h>
#include <rtlane/queue.h>
#include <rtlane/snapshot.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/// Commands waiting for the control thread; beyond this a sender hears "busy".
#define RTL_QUEUE_CAPACITY 1024U

static atomic_bool g_quit;

static void
on_signal(const int sig)
{
  // Only reached if some library unblocked the signal in its own thread:
  // the main thread takes SIGINT and SIGTERM with sigtimedwait().
  (void)sig;
  atomic_store_explicit(&g_quit, true, memory_order_release);
}

static void
lock_memory(void)
{
  // Locking future mappings too is only safe without a small RLIMIT_MEMLOCK:
  // under one, a later thread stack or allocation would fail outright.  The
  // RT state is prefaulted either way.
  struct rlimit lim;
  const bool    unlimited =
    !getrlimit(RLIMIT_MEMLOCK, &lim) && lim.rlim_cur == RLIM_INFINITY;
  if (!unlimited && geteuid() != 0) {
    rtl_log("memory not locked (RLIMIT_MEMLOCK is limited); "
            "the real-time state is prefaulted instead");
    return;
  }
  if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
    rtl_log("memory not locked (%s); the real-time state is prefaulted instead",
            strerror(errno));
  }
}

/// Wait up to `timeout_ms` for SIGINT or SIGTERM (blocked in every thread).
static void
wait_main(const sigset_t* const sigs, const long timeout_ms)
{
  const struct timespec ts  = { timeout_ms / 1000L,
                                (timeout_ms % 1000L) * 1000000L };
  const int             sig = sigtimedwait(sigs, NULL, &ts);
  if (sig == SIGINT || sig == SIGTERM) {
    atomic_store_explicit(&g_quit, true, memory_order_release);
  }
}

static bool
quitting(void)
{
  return atomic_load_explicit(&g_quit, memory_order_acquire);
}

/// Survive a server restart: keep OSC and the state, retry once a second.
static void
reconnect(RtlJack* const        jack,
          RtlControl* const     control,
          const sigset_t* const sigs)
{
  rtl_log("JACK server went away; keeping state and retrying every second");
  rtl_jack_stop(jack);
  char err[256];
  while (!quitting()) {
    for (int i = 0; i < 10 && !quitting(); ++i) {
      wait_main(sigs, 100L);
    }
    if (quitting()) {
      return;
    }
    if (rtl_jack_start(jack, err, sizeof(err)) == RTL_SUCCESS) {
      rtl_control_resync(control);
      char name[128];
      rtl_jack_name(jack, name, sizeof(name));
      rtl_log("reconnected to JACK as %s", name);
      return;
    }
  }
}

/**
   Load --insert.  A plug-in that cannot be loaded, or that is not RT-safe
   without -l, is a bad value: one line and exit 2, before JACK is touched.
*/
static bool
load_insert(const RtlOptions* const    opts,
            const RtlProcessor** const insert,
            void** const               handle)
{
  *insert = NULL;
  *handle = NULL;
  if (!opts->insert) {
    return true;
  }
  if (rtl_processor_load(opts->insert, insert, handle)) {
    fprintf(stderr,
            "rtlane: cannot use --insert '%s': %s\nTry 'rtlane --help'.\n",
            opts->insert, rtl_processor_load_error());
    return false;
  }
  if (!opts->write_ahead && !((*insert)->flags & RTL_PROCESSOR_RT_SAFE)) {
    fprintf(stderr,
            "rtlane: --insert '%s' is not real-time safe: it needs write-ahead "
            "(-l MS)\nTry 'rtlane --help'.\n",
            opts->insert);
    rtl_processor_unload(*handle);
    *insert = NULL;
    *handle = NULL;
    return false;
  }
  return true;
}

int
main(int argc, char** argv)
{
  RtlOptions opts;
  switch (rtl_options_parse(argc, argv, &opts)) {
  case RTL_OPTIONS_RUN:
    break;
  case RTL_OPTIONS_EXIT:
    return 0;
  case RTL_OPTIONS_USAGE:
    return 2;
  case RTL_OPTIONS_UNSUP:
    return 1;
  }

  // Blocked in every thread (ours and JACK's inherit the mask); the main
  // thread takes them synchronously, so no handler has to be careful and
  // no library can steal them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  const RtlProcessor* insert        = NULL;
  void*               insert_handle = NULL;
  if (!load_insert(&opts, &insert, &insert_handle)) {
    return 2;
  }

  if (opts.state_file || opts.record_dir) {
    rtl_log("note: --state and --record-dir are accepted but not used yet");
  }
  lock_memory();

  int           rc       = 1;
  char          err[256] = "out of memory";
  RtlParamTable table    = { 0 };
  RtlQueue*     queue    = NULL;
  RtlSnapshot*  snapshot = NULL;
  RtlProcess*   process  = NULL;
  RtlJack*      jack     = NULL;
  RtlOsc*       osc      = NULL;
  RtlControl*   control  = NULL;
  sem_t         wake;
  sem_init(&wake, 0, 0U);

  const char* const insert_name =
    insert && insert->name ? insert->name : opts.insert;
  if (rtl_param_table_init(&table, opts.inputs) ||
      rtl_queue_new(NULL, RTL_QUEUE_CAPACITY, sizeof(RtlCommand), &queue) ||
      rtl_snapshot_new(NULL, NULL, rtl_state_snapshot_free, NULL, &snapshot)) {
    rtl_log("%s", err);
    goto done;
  }
  const RtlProcessConfig process_config = {
    &table, snapshot, opts.write_ahead, insert, insert_name,
  };
  if (rtl_process_new(&process_config, &process)) {
    rtl_log("%s", err);
    goto done;
  }

  const RtlJackConfig jack_config = {
    opts.name, opts.server, opts.inputs, opts.connect, process, &wake,
  };
  if (rtl_jack_new(&jack_config, &jack)) {
    rtl_log("%s", err);
    goto done;
  }

  const RtlOscConfig osc_config = {
    opts.osc_bind,
    opts.osc_port,
    opts.osc_tcp,
    &table,
    queue,
    &wake,
    rtl_control_tag_to_frame,
    jack,
  };
  if (rtl_osc_open(&osc_config, &osc, err, sizeof(err))) {
    rtl_log("%s", err);
    goto done;
  }

  const RtlControlConfig control_config = {
    &table, queue, &wake, snapshot, process, jack, osc,
  };
  if (rtl_control_new(&control_config, &control)) {
    rtl_log("out of memory");
    goto done;
  }

  if (rtl_jack_start(jack, err, sizeof(err))) {
    rtl_log("%s", err);
    goto done;
  }
  if (rtl_control_start(control) || rtl_osc_start(osc)) {
    rtl_log("cannot start threads");
    goto done;
  }

  RtlJackInfo info;
  char        name[128];
  char        mode[160];
  rtl_jack_info(jack, &info);
  rtl_jack_name(jack, name, sizeof(name));
  if (opts.write_ahead > 0.0) {
    snprintf(mode, sizeof(mode), "write-ahead %g ms (%u frames)",
             opts.write_ahead, rtl_process_latency(process));
  } else {
    snprintf(mode, sizeof(mode), "direct mode");
  }
  if (insert) {
    const size_t len = strlen(mode);
    snprintf(mode + len, sizeof(mode) - len, ", insert %s", insert_name);
  }
  rtl_log("ready: client %s, %u inputs, %u Hz, period %u, %s, OSC %s", name,
          opts.inputs, info.rate, info.period, mode, rtl_osc_describe(osc));

  // A signal ends the wait at once; the timeout only paces the check for a
  // server that went away.
  while (!quitting()) {
    wait_main(&sigs, 100L);
    if (!quitting() && rtl_jack_server_gone(jack)) {
      reconnect(jack, control, &sigs);
    }
  }
  rtl_log("shutting down");
  RtlEngineStats stats;
  if (rtl_process_engine_stats(process, &stats)) {
    // The worker's record, for whoever tunes -l: how long the processing
    // stalled at worst, and whether that ever reached the output.
    rtl_log("write-ahead: %llu frames in %llu calls, longest call %.1f ms "
            "(mean %.3f ms), %llu underruns (%llu frames), %llu overruns",
            (unsigned long long)stats.frames_processed,
            (unsigned long long)stats.worker_chunks,
            (double)stats.worker_ns_max / 1e6,
            (double)stats.worker_ns_mean / 1e6,
            (unsigned long long)stats.underruns,
            (unsigned long long)stats.underrun_frames,
            (unsigned long long)stats.overruns);
  }
  rc = 0;

done:
  if (osc) {
    rtl_osc_stop(osc);
  }
  if (control) {
    rtl_control_stop(control);
  }
  rtl_jack_free(jack);
  rtl_control_free(control);
  rtl_osc_free(osc);
  rtl_snapshot_free(snapshot);
  rtl_process_free(process);
  rtl_queue_free(queue);
  rtl_param_table_destroy(&table);
  sem_destroy(&wake);
  // Only now: the engine that ran the insert's code is gone.
  rtl_processor_unload(insert_handle);
  return rc;
}
