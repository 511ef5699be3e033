// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "daemon.h"

#include "comm.h"
#include "control.h"
#include "jack.h"
#include "log.h"
#include "nsm.h"
#include "osc.h"
#include "process.h"
#include "state.h"

#include <rtlane/processor.h>
#include <rtlane/queue.h>
#include <rtlane/snapshot.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/// Commands waiting for the control thread; beyond this a sender hears "busy".
#define RTL_QUEUE_CAPACITY 1024U

/// How often the main thread looks for a server that went away, and how
/// long it waits between attempts to reconnect.
#define RTL_WATCH_MS 100L
#define RTL_RECONNECT_MS 1000L

struct RtlDaemonImpl {
  RtlAllocator*       allocator;
  RtlOptions          opts;
  sigset_t            sigs;
  bool                quit;
  const RtlProcessor* insert;
  void*               insert_handle;
  const char*         insert_name;
  sem_t               wake; ///< Posted for the control thread
  bool                wake_ready;
  RtlParamTable       table;
  RtlQueue*           queue;
  RtlSnapshot*        snapshot;
  RtlProcess*         process;
  RtlJack*            jack;
  RtlOsc*             osc;
  RtlControl*         control;
  int                 record_dir_fd;        ///< -1 until opened
  int                 state_dir_fd;         ///< -1 if there is none
  char                record_dir[PATH_MAX]; ///< As realpath() wants it
  RtlNsm*             nsm; ///< Under a session manager, or NULL
  RtlNsmSession       session;
  char                session_state[PATH_MAX + 16U];
};

// --- signals
// -------------------------------------------------------------------

/// Set by the handler, which only a thread that unblocked the signals runs.
static atomic_bool g_signalled;

static void
on_signal(const int sig)
{
  // SIGINT and SIGTERM are blocked in every thread and taken by the main
  // thread with sigtimedwait(); this runs only if some library unblocked
  // them in a thread of its own.  A flag is all a handler may safely set.
  (void)sig;
  atomic_store_explicit(&g_signalled, true, memory_order_release);
}

void
rtl_daemon_block_signals(void)
{
  // Blocked in every thread (ours and JACK's inherit the mask); the main
  // thread takes them synchronously, so no handler has to be careful and
  // no library can steal them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  // A take that reaches RLIMIT_FSIZE gets EFBIG and ends cleanly instead
  signal(SIGXFSZ, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/// Wait up to `timeout_ms` for SIGINT or SIGTERM; true once one came.
static bool
wait_signal(RtlDaemon* const d, const long timeout_ms)
{
  const struct timespec ts  = {timeout_ms / 1000L,
                               (timeout_ms % 1000L) * 1000000L};
  const int             sig = sigtimedwait(&d->sigs, NULL, &ts);
  if (sig == SIGHUP) {
    rtl_log("SIGHUP: reading the state file again");
    rtl_control_reload(d->control);
  }
  if (sig == SIGINT || sig == SIGTERM ||
      atomic_load_explicit(&g_signalled, memory_order_acquire)) {
    d->quit = true;
  }
  return d->quit;
}

// --- set-up
// --------------------------------------------------------------------

void
rtl_daemon_lock_memory(void)
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

/**
   Load --insert.  A plug-in that cannot be loaded, or that is not RT-safe
   without -l, is a bad value (RTL_BAD_ARG), found before JACK is touched.
*/
static RtlStatus
load_insert(RtlDaemon* const d, char* const err, const size_t err_size)
{
  const RtlOptions* const opts = &d->opts;
  if (!opts->insert) {
    return RTL_SUCCESS;
  }
  if (rtl_processor_load(opts->insert, &d->insert, &d->insert_handle)) {
    snprintf(err,
             err_size,
             "cannot use --insert '%s': %s",
             opts->insert,
             rtl_processor_load_error());
    return RTL_BAD_ARG;
  }
  if (opts->write_ahead <= 0.0 && !(d->insert->flags & RTL_PROCESSOR_RT_SAFE)) {
    snprintf(err,
             err_size,
             "--insert '%s' is not real-time safe: it needs write-ahead "
             "(-l MS)",
             opts->insert);
    return RTL_BAD_ARG;
  }
  d->insert_name = d->insert->name ? d->insert->name : opts->insert;
  return RTL_SUCCESS;
}

/// The parts that exist without JACK: table, queue, snapshot, RT state.
static RtlStatus
build_core(RtlDaemon* const d)
{
  RtlAllocator* const a  = d->allocator;
  RtlStatus           st = rtl_param_table_init(a, &d->table, d->opts.inputs);
  if (!st) {
    st = rtl_queue_new(a, RTL_QUEUE_CAPACITY, sizeof(RtlCommand), &d->queue);
  }
  if (!st) {
    st = rtl_snapshot_new(a, NULL, rtl_state_snapshot_free, a, &d->snapshot);
  }
  if (!st) {
    const RtlProcessConfig config = {
      a,
      &d->table,
      d->snapshot,
      d->opts.write_ahead,
      d->insert,
      d->insert_name,
      (double)d->opts.record_buffer_ms,
    };
    st = rtl_process_new(&config, &d->process);
  }
  return st;
}

/**
   The test hook RTLANE_TEST_RECORD_STALL=KIND:FRAMES:MS: the take of KIND
   (mix or inputs) stalls once for MS milliseconds after FRAMES frames, as
   a slow disk would make it, so a test can prove what a slow reader loses
   and that nothing else does.
*/
static void
test_stall_hook(RtlControlConfig* const config)
{
  const char* const hook = getenv("RTLANE_TEST_RECORD_STALL");
  char              kind[16];
  unsigned long     frames = 0U;
  unsigned          ms     = 0U;
  if (!hook || sscanf(hook, "%15[a-z]:%lu:%u", kind, &frames, &ms) != 3) {
    return;
  }
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    if (!strcmp(kind, rtl_take_name((RtlTakeKind)k))) {
      config->stall_kind  = (RtlTakeKind)k;
      config->stall_after = frames;
      config->stall_ms    = ms;
      rtl_log(
        "test hook: %s takes stall %u ms after %lu frames", kind, ms, frames);
    }
  }
}

/**
   Open the record directory: --record-dir (which must exist: a bad value),
   else $XDG_MUSIC_DIR if it exists, else the working directory.  Takes are
   created beneath this descriptor only.
*/
static RtlStatus
open_record_dir(RtlDaemon* const d, char* const err, const size_t err_size)
{
  const char* const given = d->opts.record_dir;
  const char* const music = getenv("XDG_MUSIC_DIR");
  const char*       dir   = given ? given : music && music[0] ? music : ".";
  d->record_dir_fd        = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (d->record_dir_fd < 0 && !given && dir != (const char*)".") {
    dir              = ".";
    d->record_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  if (d->record_dir_fd < 0) {
    snprintf(
      err, err_size, "cannot use --record-dir '%s': %s", dir, strerror(errno));
    return given ? RTL_BAD_ARG : RTL_SYSTEM_ERROR;
  }
  if (!realpath(dir, d->record_dir)) {
    snprintf(d->record_dir, sizeof(d->record_dir), "%s", dir);
  }
  return RTL_SUCCESS;
}

/**
   The directory /save and /load name files in: that of --state, else
   $XDG_CONFIG_HOME/rtlane (~/.config/rtlane), made if missing.  Without
   one, those two answer "no state directory"; nothing else depends on it.
*/
static void
open_state_dir(RtlDaemon* const d)
{
  char              dir[RTL_PATH_MAX + 32U];
  const char* const file   = d->opts.state_file;
  const char* const config = getenv("XDG_CONFIG_HOME");
  const char* const home   = getenv("HOME");
  if (file) {
    const char* const slash = strrchr(file, '/');
    snprintf(dir,
             sizeof(dir),
             "%.*s",
             slash ? (int)(slash == file ? 1 : slash - file) : 1,
             slash ? file : ".");
  } else if (config && config[0] == '/') {
    snprintf(dir, sizeof(dir), "%s/rtlane", config);
  } else if (home && home[0] == '/') {
    snprintf(dir, sizeof(dir), "%s/.config/rtlane", home);
  } else {
    return;
  }
  if (!file) {
    // Its parent first (~/.config may not exist yet on a new account)
    char* const slash = strrchr(dir, '/');
    *slash            = '\0';
    (void)mkdir(dir, 0755);
    *slash = '/';
    (void)mkdir(dir, 0755);
  }
  d->state_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (d->state_dir_fd < 0) {
    rtl_log("no state directory (%s: %s): /save and /load need a file name "
            "in one",
            dir,
            strerror(errno));
  }
}

/// The parts that talk to the world: JACK holder, OSC sockets, control.
static RtlStatus
build_io(RtlDaemon* const d, char* const err, const size_t err_size)
{
  const RtlOptions* const o    = &d->opts;
  const RtlJackConfig     jack = {
        d->allocator,
        o->name,
        o->server,
        o->inputs,
        o->connect,
        d->process,
        &d->wake,
  };
  RtlStatus st = rtl_jack_new(&jack, &d->jack);
  if (st) {
    snprintf(err, err_size, "%s", rtl_strerror(st));
    return st;
  }
  const RtlOscConfig osc = {
    d->allocator,
    o->osc_bind,
    o->osc_allow,
    o->n_osc_allow,
    o->osc_port,
    o->osc_tcp,
    o->reply_port,
    &d->table,
    d->queue,
    &d->wake,
    rtl_control_tag_to_frame,
    d->jack,
  };
  if ((st = rtl_osc_open(&osc, &d->osc, err, err_size))) {
    return st;
  }
  RtlControlConfig control = {
    d->allocator,
    &d->table,
    d->queue,
    &d->wake,
    d->snapshot,
    d->process,
    d->jack,
    d->osc,
    d->record_dir_fd,
    d->opts.state_file,
    d->state_dir_fd,
    d->nsm,
    RTL_TAKE_MIX,
    0U,
    0U,
  };
  test_stall_hook(&control);
  if ((st = rtl_control_new(&control, &d->control))) {
    snprintf(err, err_size, "%s", rtl_strerror(st));
  }
  return st;
}

static void
log_ready(RtlDaemon* const d)
{
  RtlJackInfo info;
  char        name[128];
  char        mode[160];
  rtl_jack_info(d->jack, &info);
  rtl_jack_name(d->jack, name, sizeof(name));
  if (d->opts.write_ahead > 0.0) {
    snprintf(mode,
             sizeof(mode),
             "write-ahead %g ms (%u frames)",
             rtl_process_latency_ms(d->process),
             rtl_process_latency(d->process));
  } else {
    snprintf(mode, sizeof(mode), "direct mode");
  }
  if (d->insert) {
    const size_t len = strlen(mode);
    snprintf(mode + len, sizeof(mode) - len, ", insert %s", d->insert_name);
  }
  rtl_log("ready: client %s, %u inputs, %u Hz, period %u, %s, OSC %s",
          name,
          d->opts.inputs,
          info.rate,
          info.period,
          mode,
          rtl_osc_describe(d->osc));
  rtl_log("takes are recorded into %s", d->record_dir);
  if (!rtl_osc_loopback_only(d->osc)) {
    rtl_log("warning: OSC listens on %s beyond this machine: anyone who can "
            "reach it controls the mixer%s",
            d->opts.osc_bind,
            d->opts.n_osc_allow ? "" : " (--osc-allow limits who)");
  }
}

/**
   Under a session manager (NSM_URL): announce, and take the client name,
   the state file and (unless --record-dir) the record directory from the
   session it opens.
*/
static RtlStatus
join_session(RtlDaemon* const d, char* const err, const size_t err_size)
{
  const char* const url = getenv("NSM_URL");
  if (!url || !url[0]) {
    return RTL_SUCCESS;
  }
  const RtlStatus st = rtl_nsm_open(d->allocator,
                                    url,
                                    program_invocation_name,
                                    &d->nsm,
                                    &d->session,
                                    err,
                                    err_size);
  if (st) {
    return st;
  }
  snprintf(d->session_state,
           sizeof(d->session_state),
           "%s/rtlane.state",
           d->session.path);
  d->opts.name       = d->session.client_id;
  d->opts.state_file = d->session_state;
  if (!d->opts.record_dir) {
    d->opts.record_dir = d->session.path;
  }
  rtl_log("session '%s' opened: client %s, files in %s",
          d->session.display,
          d->session.client_id,
          d->session.path);
  return RTL_SUCCESS;
}

/// Everything open does after the allocation of the daemon itself.
static RtlStatus
open_parts(RtlDaemon* const d, char* const err, const size_t err_size)
{
  RtlStatus st = load_insert(d, err, err_size);
  if (st || (st = join_session(d, err, err_size))) {
    return st;
  }
  if ((st = open_record_dir(d, err, err_size))) {
    return st;
  }
  open_state_dir(d);
  if (sem_init(&d->wake, 0, 0U)) {
    snprintf(err, err_size, "%s", strerror(errno));
    return RTL_SYSTEM_ERROR;
  }
  d->wake_ready = true;
  if ((st = build_core(d))) {
    snprintf(err, err_size, "%s", rtl_strerror(st));
    return st;
  }
  if ((st = build_io(d, err, err_size)) ||
      (st = rtl_jack_start(d->jack, err, err_size))) {
    return st;
  }
  if ((st = rtl_control_start(d->control)) || (st = rtl_osc_start(d->osc)) ||
      (d->nsm && (st = rtl_nsm_start(d->nsm, d->queue, &d->wake)))) {
    snprintf(err, err_size, "cannot start threads: %s", rtl_strerror(st));
  }
  return st;
}

RtlStatus
rtl_daemon_open(RtlAllocator* const     allocator,
                const RtlOptions* const opts,
                RtlDaemon** const       daemon,
                char* const             err,
                const size_t            err_size)
{
  *daemon            = NULL;
  RtlDaemon* const d = (RtlDaemon*)rtl_calloc(allocator, 1U, sizeof(RtlDaemon));
  if (!d) {
    snprintf(err, err_size, "%s", rtl_strerror(RTL_NO_MEM));
    return RTL_NO_MEM;
  }
  d->allocator     = allocator;
  d->opts          = *opts;
  d->record_dir_fd = -1;
  d->state_dir_fd  = -1;
  sigemptyset(&d->sigs);
  sigaddset(&d->sigs, SIGINT);
  sigaddset(&d->sigs, SIGTERM);
  sigaddset(&d->sigs, SIGHUP);
  const RtlStatus st = open_parts(d, err, err_size);
  if (d->nsm) {
    rtl_nsm_opened(d->nsm, !st, st ? err : "rtlane is ready");
  }
  if (st) {
    rtl_daemon_close(d);
    return st;
  }
  log_ready(d);
  *daemon = d;
  return RTL_SUCCESS;
}

// --- running
// -------------------------------------------------------------------

/// Survive a server restart: keep OSC and the state, retry every second.
static void
reconnect(RtlDaemon* const d)
{
  rtl_log("JACK server went away; keeping state and retrying every second");
  rtl_jack_stop(d->jack);
  char err[256];
  while (!wait_signal(d, RTL_RECONNECT_MS)) {
    if (!rtl_jack_start(d->jack, err, sizeof(err))) {
      rtl_control_resync(d->control);
      char name[128];
      rtl_jack_name(d->jack, name, sizeof(name));
      rtl_log("reconnected to JACK as %s", name);
      return;
    }
  }
}

/// The worker's record, for whoever tunes -l: how long the processing
/// stalled at worst, and whether that ever reached the output.
static void
log_engine_record(RtlDaemon* const d)
{
  RtlEngineStats stats;
  if (!rtl_process_engine_stats(d->process, &stats)) {
    return;
  }
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

void
rtl_daemon_run(RtlDaemon* const d)
{
  // A signal ends the wait at once; the timeout only paces the check for a
  // server that went away.
  while (!wait_signal(d, RTL_WATCH_MS)) {
    if (rtl_jack_server_gone(d->jack)) {
      reconnect(d);
    }
  }
  rtl_log("shutting down");
  log_engine_record(d);
}

void
rtl_daemon_close(RtlDaemon* const d)
{
  if (!d) {
    return;
  }
  // Producers first, then their consumer, then the audio.
  rtl_nsm_free(d->nsm);
  d->nsm = NULL;
  if (d->osc) {
    rtl_osc_stop(d->osc);
  }
  if (d->control) {
    rtl_control_stop(d->control);
  }
  rtl_jack_free(d->jack);
  rtl_control_free(d->control);
  rtl_osc_free(d->osc);
  rtl_snapshot_free(d->snapshot);
  rtl_process_free(d->process);
  rtl_queue_free(d->queue);
  rtl_param_table_destroy(&d->table);
  if (d->wake_ready) {
    sem_destroy(&d->wake);
  }
  if (d->record_dir_fd >= 0) {
    close(d->record_dir_fd);
  }
  if (d->state_dir_fd >= 0) {
    close(d->state_dir_fd);
  }
  // Only now: the engine that ran the insert's code is gone.
  rtl_processor_unload(d->insert_handle);
  rtl_free(d->allocator, d);
}
