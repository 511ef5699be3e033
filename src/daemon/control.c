// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "control.h"

#include "confine.h"
#include "log.h"
#include "recorder.h"
#include "request.h"
#include "statefile.h"
#include "subscribers.h"
#include "thread.h"

#include <rtlane/allocator.h>
#include <rtlane/msgring.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RTL_MAX_SYNCS 256U
#define RTL_MAX_TIMED 4096U
#define RTL_STATE_WINDOW_NS 50000000LL
#define RTL_IDLE_NS 20000000LL
#define RTL_SYNC_POLL_NS 1000000LL
#define RTL_METER_HOLD_NS 100000000LL
#define RTL_BATCH 4096U

/// Timed events are handed to the RT thread this far ahead of their frame.
#define RTL_HORIZON_MS 500U

/// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
#define RTL_NTP_UNIX_OFFSET 2208988800LL

typedef struct {
  RtlOscPeer peer;
  int32_t    id;
  uint64_t   seq; ///< Confirm once the RT thread adopted this
} RtlPendingSync;

/// A take of one kind, as the control thread follows it.
typedef struct {
  RtlRecorder* rec; ///< NULL: none of this kind
  uint32_t     id;  ///< As the RT thread's marks carry it
  RtlOscPeer   starter;
  RtlOscPeer   stopper;
  bool         stop_asked; ///< /record/stop sent its mark
  bool         announced;  ///< /record/started went out
} RtlTake;

struct RtlControlImpl {
  RtlControlConfig config;
  RtlModel         model;
  pthread_t        thread;
  bool             thread_started;
  _Atomic bool     quit;
  _Atomic bool     resync;
  _Atomic bool     reload; ///< SIGHUP: read the state file again

  /// The state file could not be read at start: it is kept as it is (not
  /// saved over at exit) until the user saves
  bool state_kept;

  bool     dirty;     ///< The model changed since the last publication
  uint64_t published; ///< Sequence of the last published snapshot

  RtlPendingSync* syncs;
  unsigned        n_syncs;

  RtlEvent* timed; ///< Sorted by frame, arrival order kept
  unsigned  n_timed;

  RtlSubscribers subs;

  RtlTake         takes[RTL_N_TAKES];
  uint32_t        take_ids;
  RtlSampleFormat record_format; ///< For the next take

  uint8_t* state_dirty;   ///< Per parameter: changed since the last /state
  int64_t  last_state_ns; ///< When /state was last sent
  bool     state_scheduled;

  RtlMeterMsg last_meter; ///< Most recent reading
  int64_t     last_meter_ns;

  uint64_t cmds_applied;
  uint64_t logged_xruns;
  uint64_t logged_drops;
  uint64_t logged_late;
  uint64_t logged_underruns;
  uint64_t logged_overruns;
  int64_t  next_log_ns;
};

static int64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
send_error(RtlControl* const       c,
           const RtlOscPeer* const peer,
           const char* const       path,
           const char* const       reason)
{
  // Settings from a state file have no sender: their errors go to the log
  if (peer->transport == RTL_PEER_NONE) {
    rtl_log("state: %s: %s", path, reason);
    return;
  }
  rtl_osc_send_error(c->config.osc, peer, path, reason);
}

// --- publication -------------------------------------------------------------

static void
publish(RtlControl* const c)
{
  if (!c->dirty) {
    return;
  }
  RtlStateSnapshot* const snap = rtl_model_snapshot(&c->model);
  if (!snap) {
    return; // stays dirty; the next round tries again
  }
  // Once published the snapshot belongs to the RCU machinery: take what
  // is needed from it first.
  const uint64_t seq = snap->seq;
  if (rtl_snapshot_publish(c->config.snapshot, snap) != RTL_SUCCESS) {
    rtl_state_snapshot_free(snap, c->model.allocator);
    return;
  }
  c->published = seq;
  c->dirty     = false;
}

static void
mark_state(RtlControl* const c, const unsigned index, const int64_t now)
{
  c->state_dirty[index] = 1U;
  if (!c->state_scheduled) {
    c->state_scheduled = true;
    // The first change after a quiet spell goes out at once; the rest of a
    // burst waits for the window to close.
    if (now - c->last_state_ns >= RTL_STATE_WINDOW_NS) {
      c->last_state_ns = now - RTL_STATE_WINDOW_NS;
    }
  }
}

static void
set_param(RtlControl* const c,
          const unsigned    index,
          const float       value,
          const bool        timed,
          const int64_t     now)
{
  rtl_model_set(&c->model, index, value, timed);
  c->dirty = true;
  mark_state(c, index, now);
}

// --- replies -----------------------------------------------------------------

static void
add_value(lo_message msg, const RtlParamInfo* const info, const float value)
{
  if (info->type == 'i') {
    lo_message_add_int32(msg, (int32_t)value);
  } else {
    lo_message_add_float(msg, value);
  }
}

/// `path` with the current value of parameter `index`, after `prefix` (or
/// no prefix when it is NULL).
static void
send_value(RtlControl* const       c,
           const RtlOscPeer* const peer,
           const char* const       path,
           const char* const       prefix,
           const unsigned          index)
{
  const lo_message msg = lo_message_new();
  if (msg) {
    if (prefix) {
      lo_message_add_string(msg, prefix);
    }
    add_value(
      msg, &c->config.table->params[index], c->model.slots[index].value);
    rtl_osc_send(c->config.osc, peer, path, msg);
    lo_message_free(msg);
  }
}

static void
reply_list(RtlControl* const c, const RtlOscPeer* const peer)
{
  const RtlParamTable* const t = c->config.table;
  for (unsigned i = 0U; i < t->n_params; ++i) {
    const char types[2] = {t->params[i].type, '\0'};
    rtl_osc_reply(c->config.osc,
                  peer,
                  "/list.reply",
                  "sss",
                  t->params[i].path,
                  types,
                  t->params[i].description);
  }
  const RtlCommandInfo* cmd = NULL;
  for (size_t i = 0U; (cmd = rtl_request_command(i)); ++i) {
    rtl_osc_reply(c->config.osc,
                  peer,
                  "/list.reply",
                  "sss",
                  cmd->path,
                  cmd->types,
                  cmd->description);
  }
  rtl_osc_reply(c->config.osc, peer, "/list.reply", "");
}

static int32_t
clamp_i32(const uint64_t v)
{
  return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

static void
reply_status(RtlControl* const c, const RtlOscPeer* const peer)
{
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  char name[128];
  rtl_jack_name(c->config.jack, name, sizeof(name));
  // Direct mode adds no latency and has no write-ahead buffer to underrun.
  RtlEngineStats stats;
  if (!rtl_process_engine_stats(c->config.process, &stats)) {
    memset(&stats, 0, sizeof(stats));
  }
  RtlProcess* const p = c->config.process;
  rtl_osc_reply(c->config.osc,
                peer,
                "/status.reply",
                "siiiiiihfiii",
                name,
                (int32_t)info.rate,
                (int32_t)info.period,
                (int32_t)rtl_process_latency(p),
                clamp_i32(info.xruns),
                clamp_i32(stats.underruns),
                clamp_i32(stats.overruns),
                (int64_t)rtl_process_frames(p),
                (double)info.dsp_load,
                clamp_i32(c->cmds_applied),
                clamp_i32(rtl_osc_rejected(c->config.osc)),
                clamp_i32(rtl_osc_refused(c->config.osc)));
}

/// /jack.reply s:connected|disconnected s:client i:remembered i:made
static void
reply_jack(RtlControl* const c, const RtlOscPeer* const peer)
{
  RtlJackInfo info;
  char        name[128];
  unsigned    made = 0U;
  rtl_jack_info(c->config.jack, &info);
  rtl_jack_name(c->config.jack, name, sizeof(name));
  const unsigned n = rtl_jack_connections(c->config.jack, &made);
  rtl_osc_reply(c->config.osc,
                peer,
                "/jack.reply",
                "ssii",
                info.up ? "connected" : "disconnected",
                name,
                (int32_t)n,
                (int32_t)made);
}

static void
reply_latency(RtlControl* const c, const RtlOscPeer* const peer)
{
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  const uint32_t frames = rtl_process_latency(c->config.process);
  const double   ms = info.rate ? (double)frames * 1000.0 / (double)info.rate
                                : rtl_process_latency_ms(c->config.process);
  rtl_osc_reply(c->config.osc,
                peer,
                "/latency.reply",
                "if",
                (int32_t)frames,
                (double)(float)ms);
}

// --- subscribers -------------------------------------------------------------

static void
drop_peer(RtlControl* const c, const RtlOscPeer* const peer)
{
  rtl_subscribers_drop(&c->subs, peer);
  unsigned kept = 0U;
  for (unsigned i = 0U; i < c->n_syncs; ++i) {
    if (!rtl_peer_equal(&c->syncs[i].peer, peer)) {
      c->syncs[kept++] = c->syncs[i];
    }
  }
  c->n_syncs = kept;
}

/// Keep the latest meter reading; the RT thread's meters hold and decay
/// peaks by their ballistics, so nothing between readings is lost.
static void
read_meters(RtlControl* const c, const int64_t now)
{
  RtlMsgRing* const ring = rtl_process_meters(c->config.process);
  while (!rtl_comm_recv_meters(ring, &c->last_meter)) {
    c->last_meter_ns = now;
  }
}

/// Parameters a MIDI CC moved in the mixer (see rtl_model_take_report()).
static void
read_reports(RtlControl* const c, const int64_t now)
{
  RtlMsgRing* const ring = rtl_process_reports(c->config.process);
  RtlParamReport    r;
  while (!rtl_comm_recv_report(ring, &r)) {
    if (rtl_model_take_report(&c->model, r.param, r.value, r.serial)) {
      c->dirty = true;
      mark_state(c, r.param, now);
    }
  }
}

/// /meters (peaks) or /meters/rms: one level per input, then out_L, out_R.
static void
send_levels(RtlControl* const          c,
            const RtlSubscriber* const s,
            const char* const          path,
            const float* const         levels,
            const bool                 live)
{
  const lo_message msg = lo_message_new();
  if (!msg) {
    return;
  }
  for (unsigned m = 0U; m < c->config.table->n_inputs + 2U; ++m) {
    lo_message_add_float(msg, live ? levels[m] : -INFINITY);
  }
  rtl_osc_send(c->config.osc, &s->peer, path, msg);
  lo_message_free(msg);
}

static void
send_meters(RtlControl* const c, const int64_t now)
{
  // A reading older than the hold time means the graph stopped: silence,
  // never a level stuck at its last value.
  const bool     live = now - c->last_meter_ns < RTL_METER_HOLD_NS;
  const unsigned n    = c->config.table->n_inputs + 2U;
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    RtlSubscriber* const s = &c->subs.subs[i];
    if (!rtl_subscriber_wants(s, RTL_TOPIC_METERS) || now < s->next_meter_ns) {
      continue;
    }
    send_levels(c, s, "/meters", c->last_meter.v, live);
    if (s->flags & RTL_SUBSCRIBE_RMS) {
      send_levels(c, s, "/meters/rms", c->last_meter.v + n, live);
    }
    const int64_t period = 1000000000LL / s->hz;
    s->next_meter_ns += period;
    if (s->next_meter_ns <= now) {
      s->next_meter_ns = now + period;
    }
  }
}

static void
send_state(RtlControl* const c, const int64_t now)
{
  if (!c->state_scheduled || now - c->last_state_ns < RTL_STATE_WINDOW_NS) {
    return;
  }
  const RtlParamTable* const t = c->config.table;
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    const RtlSubscriber* const s = &c->subs.subs[i];
    if (!rtl_subscriber_wants(s, RTL_TOPIC_STATE)) {
      continue;
    }
    for (unsigned p = 0U; p < t->n_params; ++p) {
      if (c->state_dirty[p]) {
        send_value(c, &s->peer, "/state", t->params[p].path, p);
      }
    }
  }
  memset(c->state_dirty, 0, t->n_params);
  c->state_scheduled = false;
  c->last_state_ns   = now;
}

// --- timed events ------------------------------------------------------------

bool
rtl_control_tag_to_frame(void* const     jack,
                         const uint64_t  tag,
                         uint64_t* const frame,
                         uint64_t* const now)
{
  const int64_t sec = (int64_t)(tag >> 32U) - RTL_NTP_UNIX_OFFSET;
  const int64_t frac =
    (int64_t)(((tag & 0xFFFFFFFFULL) * 1000000ULL + 0x80000000ULL) >> 32U);
  return rtl_jack_unix_to_frame(
    (RtlJack*)jack, sec * 1000000LL + frac, frame, now);
}

static bool
schedule(RtlControl* const c, const RtlEvent* const ev)
{
  if (c->n_timed >= RTL_MAX_TIMED) {
    return false;
  }
  rtl_events_insert(c->timed, &c->n_timed, ev);
  return true;
}

static bool
send_event(RtlControl* const c, const RtlEvent* const event)
{
  RtlEvent ev = *event;
  ev.epoch    = rtl_process_epoch(c->config.process);
  if (rtl_comm_send_event(rtl_process_events(c->config.process), &ev)) {
    return false;
  }
  // A new sequence after every event: an RT thread that has adopted it has
  // drained the event too, which is what /sync waits for.
  c->dirty = true;
  return true;
}

/// Nanoseconds until the first timed event needs this thread again.
static int64_t
timed_wait(const RtlControl* const c,
           const uint64_t          frame_now,
           const uint64_t          horizon,
           const uint32_t          rate)
{
  if (!c->n_timed || !rate) {
    return RTL_IDLE_NS;
  }
  const RtlEvent* const next = &c->timed[0];
  if (!next->sent && next->frame > frame_now + horizon) {
    return (int64_t)((next->frame - frame_now - horizon) * 1000000000ULL /
                     rate);
  }
  if (next->sent && next->frame > frame_now) {
    return (int64_t)((next->frame - frame_now) * 1000000000ULL / rate) +
           1000000LL;
  }
  return RTL_SYNC_POLL_NS;
}

/**
   Hand events within the horizon to the RT thread, and bring the model up
   to date with those whose frame has passed.  Returns the nanoseconds until
   the next thing to do here, or RTL_IDLE_NS.
*/
static int64_t
run_timed(RtlControl* const c, const int64_t now)
{
  if (!c->n_timed) {
    return RTL_IDLE_NS;
  }
  uint64_t    frame_now = 0U;
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  const bool up =
    info.up && rtl_jack_unix_to_frame(c->config.jack, 0, NULL, &frame_now);
  // In write-ahead mode the mixer renders frame F at F - L: the event must
  // be there in time for that.
  const uint64_t horizon = (uint64_t)info.rate * RTL_HORIZON_MS / 1000U +
                           rtl_process_latency(c->config.process);

  unsigned done = 0U;
  for (; done < c->n_timed; ++done) {
    RtlEvent* const t = &c->timed[done];
    if (up && !t->sent && t->frame <= frame_now + horizon) {
      t->sent = send_event(c, t);
    }
    if (up && !(t->sent && t->frame <= frame_now)) {
      break;
    }
    // Its frame has passed (or there is no RT thread to tell: the
    // transport restarts with the client, and a value is just a value).
    if (t->type == RTL_EV_PARAM) {
      set_param(c, t->param, t->value, up, now);
    }
  }
  rtl_events_drop_front(c->timed, &c->n_timed, done);
  return timed_wait(c, frame_now, horizon, info.rate);
}

static void
resync(RtlControl* const c, const int64_t now)
{
  // Values of timed events become plain values: the new RT state has never
  // seen them, and the frames belonged to the old client.
  for (unsigned i = 0U; i < c->n_timed; ++i) {
    if (c->timed[i].type == RTL_EV_PARAM) {
      set_param(c, c->timed[i].param, c->timed[i].value, false, now);
    }
  }
  c->n_timed = 0U;
  for (unsigned i = 0U; i < c->config.table->n_params; ++i) {
    RtlSlot* const slot = &c->model.slots[i];
    if (slot->serial || slot->flags) {
      rtl_model_set(&c->model, i, slot->value, false);
    }
  }
  c->dirty = true;
}

// --- commands ----------------------------------------------------------------

static void
apply_set(RtlControl* const c, const RtlCommand* const cmd, const int64_t now)
{
  if (!cmd->frame) {
    set_param(c, cmd->param, cmd->value, false, now);
  } else {
    const RtlEvent ev = {
      cmd->frame,
      cmd->param,
      cmd->value,
      0U,
      RTL_EV_PARAM,
      0U,
      0U,
    };
    if (!schedule(c, &ev)) {
      send_error(
        c, &cmd->peer, c->config.table->params[cmd->param].path, "busy");
      return;
    }
  }
  ++c->cmds_applied;
}

static void
apply_transport(RtlControl* const c, const RtlCommand* const cmd)
{
  const RtlEvent ev = {
    cmd->frame,
    0U,
    0.0f,
    (uint32_t)cmd->ival,
    RTL_EV_TRANSPORT,
    0U,
    0U,
  };
  // Untimed transport commands go to the ring now; if it is full they
  // wait in the timed list (frame 0 sorts first) rather than being lost.
  if ((cmd->frame || !send_event(c, &ev)) && !schedule(c, &ev)) {
    send_error(c, &cmd->peer, rtl_transport_path((uint32_t)cmd->ival), "busy");
    return;
  }
  ++c->cmds_applied;
}

static void
apply_latency_set(RtlControl* const c, const RtlCommand* const cmd)
{
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  const char* reason = NULL;
  if (rtl_process_set_latency_ms(
        c->config.process, (double)cmd->value, info.rate, &reason)) {
    send_error(c, &cmd->peer, "/latency/set", reason);
    return;
  }
  // The graph hears the new L from the latency callback.
  rtl_jack_update_latency(c->config.jack, true);
  ++c->cmds_applied;
}

// --- saved state
// ---------------------------------------------------------------

static void
apply(RtlControl* c, const RtlCommand* cmd, int64_t now);

/**
   Read `name` (beneath `dir_fd`, or as given with AT_FDCWD) and apply it
   whole, or nothing of it.  Returns the number of settings applied, or -1
   with the reason in `err`.
*/
static long
load_state(RtlControl* const c,
           const int         dir_fd,
           const char* const name,
           char* const       err,
           const size_t      err_size)
{
  const size_t      max = rtl_statefile_max_lines(c->config.table);
  RtlCommand* const cmds =
    (RtlCommand*)rtl_calloc(c->config.allocator, max, sizeof(RtlCommand));
  if (!cmds) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  size_t n = 0U;
  if (rtl_statefile_read(
        c->config.table, dir_fd, name, cmds, max, &n, err, err_size)) {
    rtl_free(c->config.allocator, cmds);
    return -1;
  }
  const int64_t now = now_ns();
  for (size_t i = 0U; i < n; ++i) {
    apply(c, &cmds[i], now);
  }
  rtl_free(c->config.allocator, cmds);
  return (long)n;
}

static RtlStatus
save_state(RtlControl* const c,
           const int         dir_fd,
           const char* const name,
           char* const       err,
           const size_t      err_size)
{
  const RtlStateExtras extras = {
    rtl_process_write_ahead(c->config.process)
      ? rtl_process_latency_ms(c->config.process)
      : 0.0,
    c->record_format,
  };
  return rtl_statefile_write(&c->model, &extras, dir_fd, name, err, err_size);
}

/// The --state file at start or on SIGHUP: a file that cannot be used is
/// reported, changes nothing and is not saved over (at exit) until the
/// user saves.
static void
load_state_file(RtlControl* const c, const bool at_start)
{
  const char* const file = c->config.state_file;
  if (!file) {
    if (!at_start) {
      rtl_log("SIGHUP: no state file to read (--state)");
    }
    return;
  }
  char       err[256];
  const long n = load_state(c, AT_FDCWD, file, err, sizeof(err));
  if (n >= 0) {
    c->state_kept = false;
    rtl_log("state read from %s (%ld settings)", file, n);
  } else if (at_start && !strcmp(err, rtl_confine_error(ENOENT))) {
    rtl_log("state file %s does not exist yet: it is written on /save and "
            "at exit",
            file);
  } else {
    // The user's edits are in that file: exit must not save over them
    c->state_kept = true;
    rtl_log("state file %s: %s; %s; the file is kept as it is until /save",
            file,
            err,
            at_start ? "starting with the defaults" : "nothing changed");
  }
}

/// The session manager's /nsm/client/save: the session's state file.
static void
nsm_save(RtlControl* const c)
{
  char err[256];
  if (!c->config.nsm) {
    return;
  }
  if (save_state(c, AT_FDCWD, c->config.state_file, err, sizeof(err))) {
    rtl_log("NSM save: %s", err);
    rtl_nsm_saved(c->config.nsm, false, err);
    return;
  }
  c->state_kept = false;
  ++c->cmds_applied;
  rtl_nsm_saved(c->config.nsm, true, "saved");
}

/// The file /save or /load names: the --state file (`*dir_fd` AT_FDCWD),
/// or one in the state directory.  NULL, or why there is none.
static const char*
state_target(const RtlControl* const c,
             const RtlCommand* const cmd,
             int* const              dir_fd,
             const char** const      name)
{
  const bool own = !cmd->text[0];
  *dir_fd        = own ? AT_FDCWD : c->config.state_dir_fd;
  *name          = own ? c->config.state_file : cmd->text;
  return own && !*name                ? "no state file (start with --state)"
         : own                        ? NULL
         : c->config.state_dir_fd < 0 ? "no state directory"
                                      : rtl_confine_check(*name);
}

/// /save [s:file]: the --state file, or a file in the state directory.
static void
apply_save(RtlControl* const c, const RtlCommand* const cmd)
{
  int         dir_fd = AT_FDCWD;
  const char* name   = NULL;
  const char* why    = state_target(c, cmd, &dir_fd, &name);
  char        err[256];
  if (!why && save_state(c, dir_fd, name, err, sizeof(err))) {
    why = err;
  }
  if (why) {
    send_error(c, &cmd->peer, "/save", why);
    return;
  }
  if (dir_fd == AT_FDCWD) {
    c->state_kept = false;
  }
  ++c->cmds_applied;
  rtl_osc_reply(c->config.osc, &cmd->peer, "/saved", "s", name);
}

/// /load [s:file]: the --state file, or a file in the state directory.
static void
apply_load(RtlControl* const c, const RtlCommand* const cmd)
{
  int         dir_fd = AT_FDCWD;
  const char* name   = NULL;
  const char* why    = state_target(c, cmd, &dir_fd, &name);
  char        err[256];
  long        n = 0;
  if (!why && (n = load_state(c, dir_fd, name, err, sizeof(err))) < 0) {
    why = err;
  }
  if (why) {
    // The user's edits are in the --state file: exit must not save over them
    c->state_kept = c->state_kept || (dir_fd == AT_FDCWD && name);
    send_error(c, &cmd->peer, "/load", why);
    return;
  }
  ++c->cmds_applied;
  rtl_osc_reply(c->config.osc, &cmd->peer, "/loaded", "si", name, (int32_t)n);
}

// --- takes -------------------------------------------------------------------

/// Send to `peer` (if any) and to every record subscriber but `peer`.
static void
tell_record(RtlControl* const       c,
            const RtlOscPeer* const peer,
            const char* const       path,
            const lo_message        msg)
{
  if (peer) {
    rtl_osc_send(c->config.osc, peer, path, msg);
  }
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    const RtlSubscriber* const s = &c->subs.subs[i];
    if (rtl_subscriber_wants(s, RTL_TOPIC_RECORD) &&
        (!peer || !rtl_peer_equal(&s->peer, peer))) {
      rtl_osc_send(c->config.osc, &s->peer, path, msg);
    }
  }
}

static void
record_start(RtlControl* const c, const RtlCommand* const cmd)
{
  const RtlTakeKind kind = (RtlTakeKind)cmd->ival;
  RtlTake* const    take = &c->takes[kind];
  RtlJackInfo       info;
  rtl_jack_info(c->config.jack, &info);
  RtlBroadcast* const ring = rtl_process_tap(c->config.process, kind);
  if (take->rec) {
    send_error(c,
               &cmd->peer,
               "/record/start",
               kind == RTL_TAKE_MIX ? "already recording mix"
                                    : "already recording inputs");
    return;
  }
  if (!info.up || !ring) {
    send_error(c, &cmd->peer, "/record/start", "JACK is not running");
    return;
  }
  const RtlControlConfig* const cc   = &c->config;
  const uint32_t                id   = ++c->take_ids;
  const bool                    hook = cc->stall_ms && cc->stall_kind == kind;
  const RtlRecorderConfig       rc   = {
            cc->allocator,
            ring,
            rtl_process_take_marks(cc->process, kind),
            id,
            cc->record_dir_fd,
            cmd->text,
            c->record_format,
            info.rate,
            cc->wake,
    hook ? cc->stall_after : 0U,
    hook ? cc->stall_ms : 0U,
  };
  char         err[128];
  RtlRecorder* rec = NULL;
  if (rtl_recorder_new(&rc, &rec, err, sizeof(err))) {
    send_error(c, &cmd->peer, "/record/start", err);
    return;
  }
  const RtlEvent ev = {.frame = cmd->frame,
                       .param = (uint32_t)kind,
                       .value = 0.0f,
                       .op    = id,
                       .type  = RTL_EV_RECORD};
  if (!send_event(c, &ev)) {
    rtl_recorder_free(rec, true);
    send_error(c, &cmd->peer, "/record/start", "busy");
    return;
  }
  *take         = (RtlTake){0};
  take->rec     = rec;
  take->id      = id;
  take->starter = cmd->peer;
  ++c->cmds_applied;
  rtl_log("recording %s into %s", rtl_take_name(kind), rtl_recorder_file(rec));
}

static void
record_stop(RtlControl* const c, const RtlCommand* const cmd)
{
  bool any = false;
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    RtlTake* const take = &c->takes[k];
    if (!take->rec || take->stop_asked ||
        (cmd->ival >= 0 && (unsigned)cmd->ival != k)) {
      continue;
    }
    const RtlEvent ev = {.frame = cmd->frame,
                         .param = k,
                         .value = 1.0f,
                         .op    = take->id,
                         .type  = RTL_EV_RECORD};
    if (!send_event(c, &ev)) {
      send_error(c, &cmd->peer, "/record/stop", "busy");
      return;
    }
    take->stop_asked = true;
    take->stopper    = cmd->peer;
    any              = true;
  }
  if (!any) {
    send_error(c, &cmd->peer, "/record/stop", "not recording");
    return;
  }
  ++c->cmds_applied;
}

/// /record/status.reply s:kind s:state s:file h:frames i:lost, per kind.
static void
record_status(RtlControl* const c, const RtlOscPeer* const peer)
{
  static const char* const states[] = {
    "waiting", "recording", "stopped", "failed"};
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    const RtlTake* const take  = &c->takes[k];
    RtlTakeInfo          info  = {RTL_TAKE_DONE, 0U, 0U, 0U, NULL};
    const char*          state = "idle";
    const char*          file  = "";
    if (take->rec) {
      rtl_recorder_info(take->rec, &info);
      state = take->stop_asked && info.state == RTL_TAKE_RECORDING
                ? "stopping"
                : states[info.state];
      file  = rtl_recorder_file(take->rec);
    }
    rtl_osc_reply(c->config.osc,
                  peer,
                  "/record/status.reply",
                  "ssshi",
                  rtl_take_name((RtlTakeKind)k),
                  state,
                  file,
                  (int64_t)info.frames,
                  clamp_i32(info.lost));
  }
}

/// The take of `kind` has ended: say how, and let it go.
static void
end_take(RtlControl* const c, RtlTake* const take)
{
  RtlTakeInfo info;
  rtl_recorder_info(take->rec, &info);
  const char* const       file = rtl_recorder_file(take->rec);
  const RtlOscPeer* const to =
    take->stop_asked ? &take->stopper : &take->starter;
  if (info.state == RTL_TAKE_FAILED) {
    rtl_log("recording %s ended: %s", file, info.error);
    const lo_message msg = lo_message_new();
    if (msg) {
      lo_message_add_string(msg, file);
      lo_message_add_string(msg, info.error);
      tell_record(c, &take->starter, "/record/error", msg);
      lo_message_free(msg);
    }
  }
  rtl_log("recorded %s: %llu frames, %llu lost",
          file,
          (unsigned long long)info.frames,
          (unsigned long long)info.lost);
  const lo_message msg = lo_message_new();
  if (msg) {
    lo_message_add_string(msg, file);
    lo_message_add_int64(msg, (int64_t)info.frames);
    lo_message_add_int32(msg, clamp_i32(info.lost));
    tell_record(c, to, "/record/stopped", msg);
    lo_message_free(msg);
  }
  rtl_recorder_free(take->rec, false);
  *take = (RtlTake){0};
}

/**
   Follow the takes: announce each one's first frame, pass on dropouts,
   report and free those that ended.  A server that went away ends them
   with what their rings hold.
*/
static void
poll_takes(RtlControl* const c)
{
  const bool gone = rtl_jack_server_gone(c->config.jack);
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    RtlTake* const take = &c->takes[k];
    if (!take->rec) {
      continue;
    }
    if (gone) {
      rtl_recorder_stop_now(take->rec);
    }
    RtlTakeInfo info;
    rtl_recorder_info(take->rec, &info);
    const char* const file = rtl_recorder_file(take->rec);
    if (!take->announced && info.state != RTL_TAKE_WAITING &&
        (info.state == RTL_TAKE_RECORDING || info.frames)) {
      take->announced      = true;
      const lo_message msg = lo_message_new();
      if (msg) {
        lo_message_add_string(msg, file);
        lo_message_add_int64(msg, (int64_t)info.start_frame);
        tell_record(c, &take->starter, "/record/started", msg);
        lo_message_free(msg);
      }
    }
    RtlDropout d;
    while (!rtl_comm_recv_dropout(rtl_recorder_dropouts(take->rec), &d)) {
      rtl_log("recording %s: %u frames lost at frame %llu (the disk or the "
              "system was too slow), filled with silence",
              file,
              d.frames,
              (unsigned long long)d.position);
      const lo_message msg = lo_message_new();
      if (msg) {
        lo_message_add_int32(msg, clamp_i32(d.frames));
        lo_message_add_int64(msg, (int64_t)d.position);
        tell_record(c, NULL, "/record/dropout", msg);
        lo_message_free(msg);
      }
    }
    if (info.state == RTL_TAKE_DONE || info.state == RTL_TAKE_FAILED) {
      end_take(c, take);
    }
  }
}

/// Shutting down: end every take with what its ring holds.
static void
finish_takes(RtlControl* const c)
{
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    if (c->takes[k].rec) {
      rtl_recorder_stop_now(c->takes[k].rec);
    }
  }
  for (unsigned k = 0U; k < RTL_N_TAKES; ++k) {
    RtlTake* const take = &c->takes[k];
    if (take->rec) {
      RtlTakeInfo info;
      rtl_recorder_join(take->rec);
      rtl_recorder_info(take->rec, &info);
      rtl_log("recorded %s: %llu frames, %llu lost%s%s",
              rtl_recorder_file(take->rec),
              (unsigned long long)info.frames,
              (unsigned long long)info.lost,
              info.error ? "; " : "",
              info.error ? info.error : "");
      rtl_recorder_free(take->rec, false);
      take->rec = NULL;
    }
  }
}

static void
apply(RtlControl* const c, const RtlCommand* const cmd, const int64_t now)
{
  const RtlOscPeer* const peer = &cmd->peer;
  switch ((RtlCmdKind)cmd->kind) {
  case RTL_CMD_SET:
    apply_set(c, cmd, now);
    return;
  case RTL_CMD_TRANSPORT:
    apply_transport(c, cmd);
    return;
  case RTL_CMD_PING:
    rtl_osc_reply(c->config.osc, peer, "/pong", "");
    return;
  case RTL_CMD_SYNC:
    if (c->n_syncs >= RTL_MAX_SYNCS) {
      send_error(c, peer, "/sync", "busy");
      return;
    }
    // The snapshot published at the end of this round (or the last one,
    // if nothing changes) holds every earlier command.
    c->syncs[c->n_syncs++] = (RtlPendingSync){*peer, cmd->ival, 0U};
    return;
  case RTL_CMD_LIST:
    reply_list(c, peer);
    return;
  case RTL_CMD_STATUS:
    reply_status(c, peer);
    return;
  case RTL_CMD_GET:
    send_value(
      c, peer, c->config.table->params[cmd->param].path, NULL, cmd->param);
    return;
  case RTL_CMD_SUBSCRIBE:
    if (rtl_subscribers_add(
          &c->subs, peer, (RtlTopic)cmd->ival, cmd->hz, cmd->flags, now)) {
      send_error(c, peer, "/subscribe", "too many subscribers");
    }
    return;
  case RTL_CMD_UNSUBSCRIBE:
    rtl_subscribers_remove(&c->subs, peer, (RtlTopic)cmd->ival);
    return;
  case RTL_CMD_PEER_GONE:
    drop_peer(c, peer);
    return;
  case RTL_CMD_LATENCY:
    reply_latency(c, peer);
    return;
  case RTL_CMD_LATENCY_SET:
    apply_latency_set(c, cmd);
    return;
  case RTL_CMD_MIDI_MAP:
    rtl_model_map_cc(&c->model, (unsigned)cmd->ival, cmd->param);
    c->dirty = true;
    ++c->cmds_applied;
    return;
  case RTL_CMD_RECORD_START:
    record_start(c, cmd);
    return;
  case RTL_CMD_RECORD_STOP:
    record_stop(c, cmd);
    return;
  case RTL_CMD_RECORD_STATUS:
    record_status(c, peer);
    return;
  case RTL_CMD_RECORD_FORMAT:
    c->record_format = (RtlSampleFormat)cmd->ival;
    ++c->cmds_applied;
    return;
  case RTL_CMD_SAVE:
    apply_save(c, cmd);
    return;
  case RTL_CMD_JACK:
    reply_jack(c, peer);
    return;
  case RTL_CMD_NSM_SAVE:
    nsm_save(c);
    return;
  case RTL_CMD_LOAD:
    apply_load(c, cmd);
    return;
  }
}

static void
confirm_syncs(RtlControl* const c)
{
  if (!c->n_syncs) {
    return;
  }
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  const uint64_t adopted = rtl_process_adopted_seq(c->config.process);
  unsigned       kept    = 0U;
  for (unsigned i = 0U; i < c->n_syncs; ++i) {
    RtlPendingSync* const s = &c->syncs[i];
    if (!s->seq && !c->dirty) {
      s->seq = c->published;
    }
    // Without a running client there is no audio to wait for.
    if (!info.up || (s->seq && adopted >= s->seq)) {
      rtl_osc_reply(c->config.osc, &s->peer, "/synced", "i", s->id);
    } else {
      c->syncs[kept++] = *s;
    }
  }
  c->n_syncs = kept;
}

// --- health ------------------------------------------------------------------

/// Log `what` when `count` moved since `*logged`.
static bool
moved(uint64_t* const logged, const uint64_t count)
{
  const bool changed = count != *logged;
  *logged            = count;
  return changed;
}

static void
log_engine(RtlControl* const c)
{
  RtlEngineStats stats;
  if (!rtl_process_engine_stats(c->config.process, &stats)) {
    return;
  }
  if (moved(&c->logged_underruns, stats.underruns)) {
    rtl_log("write-ahead underrun: %llu frames of silence so far "
            "(%llu periods); the worker fell more than L behind",
            (unsigned long long)stats.underrun_frames,
            (unsigned long long)stats.underruns);
  }
  if (moved(&c->logged_overruns, stats.overruns)) {
    rtl_log("write-ahead overrun (%llu in total)",
            (unsigned long long)stats.overruns);
  }
}

static void
log_health(RtlControl* const c, const int64_t now)
{
  if (now < c->next_log_ns) {
    return;
  }
  c->next_log_ns = now + 1000000000LL;
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  if (moved(&c->logged_xruns, info.xruns)) {
    rtl_log("xrun (%llu in total)", (unsigned long long)info.xruns);
  }
  const uint64_t drops = c->logged_drops;
  if (moved(&c->logged_drops, rtl_process_meter_drops(c->config.process))) {
    rtl_log("%llu meter readings dropped (control thread late)",
            (unsigned long long)(c->logged_drops - drops));
  }
  const uint64_t late = c->logged_late;
  if (moved(&c->logged_late, rtl_process_late_events(c->config.process))) {
    rtl_log("%llu timed change(s) came too late for their frame (less than "
            "the write-ahead delay ahead); applied as soon as possible",
            (unsigned long long)(c->logged_late - late));
  }
  log_engine(c);
}

// --- the thread --------------------------------------------------------------

static int64_t
next_deadline(const RtlControl* const c,
              const int64_t           now,
              const int64_t           timed_in)
{
  int64_t wait = timed_in < RTL_IDLE_NS ? timed_in : RTL_IDLE_NS;
  if (c->n_syncs && wait > RTL_SYNC_POLL_NS) {
    wait = RTL_SYNC_POLL_NS;
  }
  if (c->state_scheduled) {
    const int64_t w = c->last_state_ns + RTL_STATE_WINDOW_NS - now;
    wait            = w < wait ? w : wait;
  }
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    const RtlSubscriber* const s = &c->subs.subs[i];
    if (rtl_subscriber_wants(s, RTL_TOPIC_METERS)) {
      const int64_t w = s->next_meter_ns - now;
      wait            = w < wait ? w : wait;
    }
  }
  return wait > 0 ? wait : 0;
}

/// Sleep until posted or `wait_ns` passed, on the monotonic clock so a
/// step of the wall clock never lengthens the sleep.
static void
sleep_until_posted(RtlControl* const c, const int64_t wait_ns)
{
  if (wait_ns > 0) {
    const int64_t   deadline = now_ns() + wait_ns;
    struct timespec ts       = {(time_t)(deadline / 1000000000LL),
                                (long)(deadline % 1000000000LL)};
    while (sem_clockwait(c->config.wake, CLOCK_MONOTONIC, &ts) &&
           errno == EINTR) {
    }
  }
  // Several posts may have piled up for commands already handled.
  while (!sem_trywait(c->config.wake)) {
  }
}

/// Follow what JACK changed under us: the same milliseconds of write-ahead
/// are another L at a new rate; a new period changes nothing here, but the
/// graph is told again all the same.
static void
follow_graph(RtlControl* const c)
{
  if (rtl_jack_rate_changed(c->config.jack)) {
    RtlJackInfo info;
    rtl_jack_info(c->config.jack, &info);
    rtl_process_follow_latency(c->config.process, info.rate);
    rtl_jack_update_latency(c->config.jack, true);
  } else {
    rtl_jack_update_latency(c->config.jack, false);
  }
  rtl_process_follow_insert_rate(c->config.process,
                                 rtl_jack_rate(c->config.jack));
}

/**
   Apply up to one batch of queued commands.  True if the batch was full,
   so more may be waiting.  An empty pop is not a reason to spin: it may be
   a producer preempted between claiming a cell and filling it, and that
   producer posts the semaphore once it is done.
*/
static bool
apply_batch(RtlControl* const c, const int64_t now)
{
  RtlCommand cmd;
  unsigned   n = 0U;
  while (n < RTL_BATCH && !rtl_queue_pop(c->config.queue, &cmd)) {
    apply(c, &cmd, now);
    ++n;
  }
  return n == RTL_BATCH;
}

/// A clean shutdown keeps the settings in the --state file, unless that
/// file could not be read at start (then it stays as the user left it).
static void
save_at_exit(RtlControl* const c)
{
  const char* const file = c->config.state_file;
  char              err[256];
  if (!file) {
    return;
  }
  if (c->config.nsm) {
    rtl_log("state not saved at exit: the session manager asks for saves");
  } else if (c->state_kept) {
    rtl_log("state not saved: %s could not be read at start and is kept "
            "as it is (/save writes it)",
            file);
  } else if (save_state(c, AT_FDCWD, file, err, sizeof(err))) {
    rtl_log("state not saved to %s: %s", file, err);
  } else {
    rtl_log("state saved to %s", file);
  }
}

static void*
control_thread(void* const arg)
{
  RtlControl* const c    = (RtlControl*)arg;
  int64_t           wait = 0;
  while (!atomic_load_explicit(&c->quit, memory_order_acquire)) {
    sleep_until_posted(c, wait);
    int64_t now = now_ns();
    if (atomic_exchange_explicit(&c->resync, false, memory_order_acq_rel)) {
      resync(c, now);
    }
    if (atomic_exchange_explicit(&c->reload, false, memory_order_acq_rel)) {
      load_state_file(c, false);
    }
    follow_graph(c);
    rtl_jack_follow_connections(c->config.jack, now);
    // Before the commands, so a /get sees what the CCs did.
    read_reports(c, now);
    const bool    more     = apply_batch(c, now);
    const int64_t timed_in = run_timed(c, now);
    publish(c);
    confirm_syncs(c);

    now = now_ns();
    read_meters(c, now);
    send_meters(c, now);
    send_state(c, now);
    poll_takes(c);
    log_health(c, now);
    wait = more ? 0 : next_deadline(c, now, timed_in);
  }
  finish_takes(c);
  save_at_exit(c);
  return NULL;
}

// --- life cycle --------------------------------------------------------------

RtlStatus
rtl_control_new(const RtlControlConfig* const config,
                RtlControl** const            control)
{
  *control              = NULL;
  RtlAllocator* const a = config->allocator;
  const size_t        n = config->table->n_params;
  RtlControl* const   c = (RtlControl*)rtl_calloc(a, 1U, sizeof(RtlControl));
  if (!c) {
    return RTL_NO_MEM;
  }
  c->config = *config;
  c->syncs =
    (RtlPendingSync*)rtl_calloc(a, RTL_MAX_SYNCS, sizeof(RtlPendingSync));
  c->timed       = (RtlEvent*)rtl_calloc(a, RTL_MAX_TIMED, sizeof(RtlEvent));
  c->state_dirty = (uint8_t*)rtl_calloc(a, n, 1U);
  if (!c->syncs || !c->timed || !c->state_dirty ||
      rtl_model_init(a, &c->model, config->table)) {
    rtl_control_free(c);
    return RTL_NO_MEM;
  }
  c->last_state_ns = now_ns() - RTL_STATE_WINDOW_NS;
  c->last_meter_ns = now_ns() - RTL_METER_HOLD_NS;
  // Before the first snapshot, so the audio starts with the saved values
  load_state_file(c, true);
  c->dirty = true;
  publish(c);
  if (c->dirty) {
    rtl_control_free(c);
    return RTL_NO_MEM;
  }
  *control = c;
  return RTL_SUCCESS;
}

void
rtl_control_free(RtlControl* const c)
{
  if (!c) {
    return;
  }
  rtl_control_stop(c);
  rtl_model_destroy(&c->model);
  RtlAllocator* const a = c->config.allocator;
  rtl_free(a, c->syncs);
  rtl_free(a, c->timed);
  rtl_free(a, c->state_dirty);
  rtl_free(a, c);
}

RtlStatus
rtl_control_start(RtlControl* const c)
{
  const RtlStatus st =
    rtl_thread_start(&c->thread, "rtlane-control", control_thread, c);
  c->thread_started = !st;
  return st;
}

void
rtl_control_stop(RtlControl* const c)
{
  if (!c->thread_started) {
    return;
  }
  atomic_store_explicit(&c->quit, true, memory_order_release);
  sem_post(c->config.wake);
  pthread_join(c->thread, NULL);
  c->thread_started = false;
}

void
rtl_control_reload(RtlControl* const c)
{
  atomic_store_explicit(&c->reload, true, memory_order_release);
  sem_post(c->config.wake);
}

void
rtl_control_resync(RtlControl* const c)
{
  atomic_store_explicit(&c->resync, true, memory_order_release);
  sem_post(c->config.wake);
}
