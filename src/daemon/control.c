// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "control.h"

#include "log.h"

#include <rtlane/allocator.h>
#include <rtlane/meter.h>
#include <rtlane/msgring.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define RTL_MAX_SUBSCRIBERS 16U
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
  bool       used;
  RtlOscPeer peer;
  uint32_t   topics; ///< Bit per RtlTopic
  int32_t    hz;
  int64_t    next_meter_ns;
  bool       fresh; ///< A reading arrived since the last /meters
  float      peak[RTL_MAX_METERS];
} RtlSubscriber;

typedef struct {
  RtlOscPeer peer;
  int32_t    id;
  uint64_t   seq; ///< Confirm once the RT thread adopted this
} RtlPendingSync;

typedef struct {
  RtlEvent ev;   ///< ev.frame is when it applies
  bool     sent; ///< Handed to the RT thread
} RtlTimed;

struct RtlControlImpl {
  RtlControlConfig config;
  RtlModel         model;
  pthread_t        thread;
  bool             thread_started;
  _Atomic bool     quit;
  _Atomic bool     resync;

  bool     dirty;     ///< The model changed since the last publication
  uint64_t published; ///< Sequence of the last published snapshot

  RtlPendingSync* syncs;
  unsigned        n_syncs;

  RtlTimed* timed; ///< Sorted by frame, arrival order kept
  unsigned  n_timed;

  RtlSubscriber subs[RTL_MAX_SUBSCRIBERS];

  uint8_t* state_dirty; ///< Per parameter: changed since the last /state
  unsigned n_state_dirty;
  int64_t  last_state_ns; ///< When /state was last sent
  bool     state_scheduled;

  RtlMeterMsg last_meter; ///< Most recent reading
  int64_t     last_meter_ns;

  // Parameters moved by MIDI CCs: the serial the model gave the last value
  // taken from a report, and the mixer's serial that report was based on.
  uint32_t* cc_serial;
  uint32_t* cc_base;

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
    rtl_state_snapshot_free(snap, NULL);
    return;
  }
  c->published = seq;
  c->dirty     = false;
}

static void
mark_state(RtlControl* const c, const unsigned index, const int64_t now)
{
  if (!c->state_dirty[index]) {
    c->state_dirty[index] = 1U;
    ++c->n_state_dirty;
  }
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

static void
reply_value(RtlControl* const       c,
            const RtlOscPeer* const peer,
            const unsigned          index)
{
  const RtlParamInfo* const info = &c->config.table->params[index];
  const lo_message          msg  = lo_message_new();
  if (!msg) {
    return;
  }
  add_value(msg, info, c->model.slots[index].value);
  rtl_osc_send(c->config.osc, peer, info->path, msg);
  lo_message_free(msg);
}

static void
reply_simple(RtlControl* const       c,
             const RtlOscPeer* const peer,
             const char* const       path)
{
  const lo_message msg = lo_message_new();
  if (msg) {
    rtl_osc_send(c->config.osc, peer, path, msg);
    lo_message_free(msg);
  }
}

static void
reply_list(RtlControl* const c, const RtlOscPeer* const peer)
{
  const RtlParamTable* const t = c->config.table;
  for (unsigned i = 0U; i < t->n_params; ++i) {
    const lo_message msg = lo_message_new();
    if (!msg) {
      return;
    }
    const char types[2] = { t->params[i].type, '\0' };
    lo_message_add_string(msg, t->params[i].path);
    lo_message_add_string(msg, types);
    lo_message_add_string(msg, t->params[i].description);
    rtl_osc_send(c->config.osc, peer, "/list.reply", msg);
    lo_message_free(msg);
  }
  for (const RtlOscCommandInfo* cmd = rtl_osc_commands(); cmd->path; ++cmd) {
    const lo_message msg = lo_message_new();
    if (!msg) {
      return;
    }
    lo_message_add_string(msg, cmd->path);
    lo_message_add_string(msg, cmd->types);
    lo_message_add_string(msg, cmd->description);
    rtl_osc_send(c->config.osc, peer, "/list.reply", msg);
    lo_message_free(msg);
  }
  reply_simple(c, peer, "/list.reply");
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
  const lo_message msg = lo_message_new();
  if (!msg) {
    return;
  }
  char name[128];
  rtl_jack_name(c->config.jack, name, sizeof(name));
  lo_message_add_string(msg, name);
  // Direct mode adds no latency and has no write-ahead buffer to underrun.
  RtlEngineStats stats;
  if (!rtl_process_engine_stats(c->config.process, &stats)) {
    memset(&stats, 0, sizeof(stats));
  }
  lo_message_add_int32(msg, (int32_t)info.rate);
  lo_message_add_int32(msg, (int32_t)info.period);
  lo_message_add_int32(msg,
                       (int32_t)rtl_process_latency(c->config.process));
  lo_message_add_int32(msg, clamp_i32(info.xruns));
  lo_message_add_int32(msg, clamp_i32(stats.underruns));
  lo_message_add_int32(msg, clamp_i32(stats.overruns));
  lo_message_add_int64(msg, (int64_t)rtl_process_frames(c->config.process));
  lo_message_add_float(msg, info.dsp_load);
  lo_message_add_int32(msg, clamp_i32(c->cmds_applied));
  lo_message_add_int32(msg, clamp_i32(rtl_osc_rejected(c->config.osc)));
  rtl_osc_send(c->config.osc, peer, "/status.reply", msg);
  lo_message_free(msg);
}

static void
reply_latency(RtlControl* const c, const RtlOscPeer* const peer)
{
  RtlJackInfo info;
  rtl_jack_info(c->config.jack, &info);
  const uint32_t   frames = rtl_process_latency(c->config.process);
  const lo_message msg    = lo_message_new();
  if (!msg) {
    return;
  }
  lo_message_add_int32(msg, (int32_t)frames);
  lo_message_add_float(
    msg, info.rate ? (float)((double)frames * 1000.0 / (double)info.rate)
                   : (float)rtl_process_latency_ms(c->config.process));
  rtl_osc_send(c->config.osc, peer, "/latency.reply", msg);
  lo_message_free(msg);
}

// --- subscribers -------------------------------------------------------------

static bool
same_peer(const RtlOscPeer* const a, const RtlOscPeer* const b)
{
  if (a->transport != b->transport) {
    return false;
  }
  if (a->transport == RTL_PEER_TCP) {
    return a->conn == b->conn;
  }
  if (a->addr.sa.sa_family != b->addr.sa.sa_family) {
    return false;
  }
  if (a->addr.sa.sa_family == AF_INET) {
    return a->addr.in4.sin_port == b->addr.in4.sin_port &&
           a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
  }
  return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
         !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr,
                 sizeof(a->addr.in6.sin6_addr));
}

static RtlSubscriber*
find_sub(RtlControl* const c, const RtlOscPeer* const peer)
{
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    if (c->subs[i].used && same_peer(&c->subs[i].peer, peer)) {
      return &c->subs[i];
    }
  }
  return NULL;
}

static void
subscribe(RtlControl* const c, const RtlCommand* const cmd, const int64_t now)
{
  RtlSubscriber* s = find_sub(c, &cmd->peer);
  if (!s) {
    for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS && !s; ++i) {
      if (!c->subs[i].used) {
        s = &c->subs[i];
      }
    }
    if (!s) {
      rtl_osc_send_error(c->config.osc, &cmd->peer, "/subscribe",
                         "too many subscribers");
      return;
    }
    memset(s, 0, sizeof(*s));
    s->used = true;
    s->peer = cmd->peer;
  }
  s->topics |= 1U << (unsigned)cmd->ival;
  if (cmd->ival == RTL_TOPIC_METERS) {
    s->hz            = cmd->hz;
    s->next_meter_ns = now;
    s->fresh         = false;
    memset(s->peak, 0, sizeof(s->peak));
  }
}

static void
unsubscribe(RtlControl* const c, const RtlCommand* const cmd)
{
  RtlSubscriber* const s = find_sub(c, &cmd->peer);
  if (s) {
    s->topics &= ~(1U << (unsigned)cmd->ival);
    s->used = s->topics != 0U;
  }
}

static void
drop_peer(RtlControl* const c, const RtlOscPeer* const peer)
{
  RtlSubscriber* const s = find_sub(c, peer);
  if (s) {
    s->used = false;
  }
  unsigned kept = 0U;
  for (unsigned i = 0U; i < c->n_syncs; ++i) {
    if (!same_peer(&c->syncs[i].peer, peer)) {
      c->syncs[kept++] = c->syncs[i];
    }
  }
  c->n_syncs = kept;
}

static void
read_meters(RtlControl* const c, const int64_t now)
{
  RtlMsgRing* const ring = rtl_process_meters(c->config.process);
  RtlMsgHeader      hdr;
  while (rtl_msgring_recv(ring, &hdr, &c->last_meter, sizeof(c->last_meter)) ==
         RTL_SUCCESS) {
    if (hdr.type != RTL_MSG_METERS) {
      continue;
    }
    c->last_meter_ns = now;
    const unsigned n = c->last_meter.n;
    for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
      RtlSubscriber* const s = &c->subs[i];
      if (!s->used || !(s->topics & (1U << RTL_TOPIC_METERS))) {
        continue;
      }
      for (unsigned m = 0U; m < n; ++m) {
        if (c->last_meter.v[m] > s->peak[m]) {
          s->peak[m] = c->last_meter.v[m];
        }
      }
      s->fresh = true;
    }
  }
}

/**
   Parameters a MIDI CC moved in the mixer.  The model takes the value as
   already applied (RTL_SLOT_TIMED) unless a newer setting has overtaken it:
   the report names the mixer's serial for the parameter when it moved, and
   the value counts only if the model still holds that setting, or holds a
   value taken from an earlier report on the same setting.  Otherwise the
   newer setting is on its way to the mixer and will win there too.
*/
static void
read_reports(RtlControl* const c, const int64_t now)
{
  RtlMsgRing* const ring = rtl_process_reports(c->config.process);
  RtlMsgHeader      hdr;
  RtlParamReport    r;
  while (rtl_msgring_recv(ring, &hdr, &r, sizeof(r)) == RTL_SUCCESS) {
    if (hdr.type != RTL_MSG_PARAM || r.param >= c->config.table->n_params) {
      continue;
    }
    const uint32_t serial = c->model.slots[r.param].serial;
    if (serial != r.serial &&
        (serial != c->cc_serial[r.param] || r.serial != c->cc_base[r.param])) {
      continue;
    }
    set_param(c, r.param, r.value, true, now);
    c->cc_serial[r.param] = c->model.slots[r.param].serial;
    c->cc_base[r.param]   = r.serial;
  }
}

static float
peak_db(const float peak)
{
  const float db = rtl_gain_to_db(peak);
  return db < RTL_METER_FLOOR_DB ? -INFINITY : db;
}

static void
send_meters(RtlControl* const c, const int64_t now)
{
  const unsigned n = c->config.table->n_inputs + 2U;
  for (unsigned i = 0U; i < RTL_MAX_SUBSCRIBERS; ++i) {
    RtlSubscriber* const s = &c->subs[i];
    if (!s->used || !(s->topics & (1U << RTL_TOPIC_METERS)) ||
        now < s->next_meter_ns) {
      continue;
    }
    // A window shorter than the JACK period may hold no reading: then the
    // latest reading stands, for as long as it is recent.  A stopped
    // graph therefore reads -inf, never a stuck level.
    const bool hold = !s->fresh && now - c->last_meter_ns < RTL_METER_HOLD_NS;
    const lo_message msg = lo_message_new();
    if (!msg) {
      return;
    }
    for (unsigned m = 0U; m < n; ++m) {
      const float peak = s->fresh ? s->peak[m]
                         : hold   ? c->last_meter.v[m]
                                  : 0.0f;
      lo_message_add_float(msg, peak_db(peak));
      s->peak[m] = 0.0f;
    }
    s->fresh = false;
    rtl_osc_send(c->config.osc, &s->peer, "/meters", msg);
    lo_message_free(msg);

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
    RtlSubscriber* const s = &c->subs[i];
    if (!s->used || !(s->topics & (1U << RTL_TOPIC_STATE))) {
      continue;
    }
    for (unsigned p = 0U; p < t->n_params; ++p) {
      if (!c->state_dirty[p]) {
        continue;
      }
      const lo_message msg = lo_message_new();
      if (!msg) {
        break;
      }
      lo_message_add_string(msg, t->params[p].path);
      add_value(msg, &t->params[p], c->model.slots[p].value);
      rtl_osc_send(c->config.osc, &s->peer, "/state", msg);
      lo_message_free(msg);
    }
  }
  memset(c->state_dirty, 0, t->n_params);
  c->n_state_dirty   = 0U;
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
  return rtl_jack_unix_to_frame((RtlJack*)jack, sec * 1000000LL + frac, frame,
                                now);
}

static bool
schedule(RtlControl* const c, const RtlEvent* const ev)
{
  if (c->n_timed >= RTL_MAX_TIMED) {
    return false;
  }
  unsigned i = c->n_timed;
  while (i > 0U && c->timed[i - 1U].ev.frame > ev->frame) {
    c->timed[i] = c->timed[i - 1U];
    --i;
  }
  c->timed[i] = (RtlTimed){ *ev, false };
  ++c->n_timed;
  return true;
}

static bool
send_event(RtlControl* const c, const RtlEvent* const event)
{
  RtlEvent ev = *event;
  ev.epoch    = rtl_process_epoch(c->config.process);
  if (rtl_msgring_send(rtl_process_events(c->config.process), ev.type, &ev,
                       sizeof(ev)) != RTL_SUCCESS) {
    return false;
  }
  // A new sequence after every event: an RT thread that has adopted it has
  // drained the event too, which is what /sync waits for.
  c->dirty = true;
  return true;
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
  for (unsigned i = 0U; i < c->n_timed; ++i) {
    RtlTimed* const t = &c->timed[i];
    if (up && !t->sent && t->ev.frame <= frame_now + horizon) {
      t->sent = send_event(c, &t->ev);
    }
    if (!up || (t->sent && t->ev.frame <= frame_now)) {
      if (t->ev.type == RTL_EV_PARAM) {
        set_param(c, t->ev.param, t->ev.value, up, now);
      } else if (!up) {
        // No RT thread to tell; the transport restarts with the client.
      }
      ++done;
      continue;
    }
    break;
  }
  if (done) {
    memmove(c->timed, c->timed + done, (c->n_timed - done) * sizeof(RtlTimed));
    c->n_timed -= done;
  }
  if (!c->n_timed || !info.rate) {
    return RTL_IDLE_NS;
  }
  const RtlTimed* const next = &c->timed[0];
  if (!next->sent && next->ev.frame > frame_now + horizon) {
    return (int64_t)((next->ev.frame - frame_now - horizon) * 1000000000ULL /
                     info.rate);
  }
  if (next->sent && next->ev.frame > frame_now) {
    return (int64_t)((next->ev.frame - frame_now) * 1000000000ULL / info.rate) +
           1000000LL;
  }
  return RTL_SYNC_POLL_NS;
}

static void
resync(RtlControl* const c, const int64_t now)
{
  // Values of timed events become plain values: the new RT state has never
  // seen them, and the frames belonged to the old client.
  for (unsigned i = 0U; i < c->n_timed; ++i) {
    if (c->timed[i].ev.type == RTL_EV_PARAM) {
      set_param(c, c->timed[i].ev.param, c->timed[i].ev.value, false, now);
    }
  }
  c->n_timed = 0U;
  for (unsigned i = 0U; i < c->config.table->n_params; ++i) {
    RtlSlot* const slot = &c->model.slots[i];
    if (slot->serial || slot->flags) {
      rtl_model_set(&c->model, i, slot->value, false);
    }
    c->cc_serial[i] = 0U;
    c->cc_base[i]   = 0U;
  }
  c->dirty = true;
}

// --- commands ----------------------------------------------------------------

static void
apply(RtlControl* const c, const RtlCommand* const cmd, const int64_t now)
{
  const uint64_t frame = cmd->frame;
  const bool     timed = frame != 0U;

  switch ((RtlCmdKind)cmd->kind) {
  case RTL_CMD_SET:
    if (timed) {
      const RtlEvent ev = { frame,        cmd->param, cmd->value, 0U,
                            RTL_EV_PARAM, 0U,         0U };
      if (!schedule(c, &ev)) {
        rtl_osc_send_error(c->config.osc, &cmd->peer,
                           c->config.table->params[cmd->param].path, "busy");
        return;
      }
    } else {
      set_param(c, cmd->param, cmd->value, false, now);
    }
    ++c->cmds_applied;
    return;
  case RTL_CMD_TRANSPORT: {
    static const char* const paths[] = {
      "",
      "/transport/start",
      "/transport/stop",
      "/transport/pause",
      "/transport/reset",
    };
    const RtlEvent ev = { timed ? frame : 0U, 0U, 0.0f, (uint32_t)cmd->ival,
                          RTL_EV_TRANSPORT,   0U, 0U };
    // Untimed transport commands go to the ring now; if it is full they
    // wait in the timed list (frame 0 sorts first) rather than being lost.
    if ((timed || !send_event(c, &ev)) && !schedule(c, &ev)) {
      rtl_osc_send_error(
        c->config.osc, &cmd->peer,
        cmd->ival >= 1 && cmd->ival <= 4 ? paths[cmd->ival] : "", "busy");
      return;
    }
    ++c->cmds_applied;
    return;
  }
  case RTL_CMD_PING:
    reply_simple(c, &cmd->peer, "/pong");
    return;
  case RTL_CMD_SYNC:
    if (c->n_syncs >= RTL_MAX_SYNCS) {
      rtl_osc_send_error(c->config.osc, &cmd->peer, "/sync", "busy");
      return;
    }
    // The snapshot published at the end of this round (or the last one,
    // if nothing changes) holds every earlier command.
    c->syncs[c->n_syncs++] = (RtlPendingSync){ cmd->peer, cmd->ival, 0U };
    return;
  case RTL_CMD_LIST:
    reply_list(c, &cmd->peer);
    return;
  case RTL_CMD_STATUS:
    reply_status(c, &cmd->peer);
    return;
  case RTL_CMD_GET:
    reply_value(c, &cmd->peer, cmd->param);
    return;
  case RTL_CMD_SUBSCRIBE:
    subscribe(c, cmd, now);
    return;
  case RTL_CMD_UNSUBSCRIBE:
    unsubscribe(c, cmd);
    return;
  case RTL_CMD_PEER_GONE:
    drop_peer(c, &cmd->peer);
    return;
  case RTL_CMD_LATENCY:
    reply_latency(c, &cmd->peer);
    return;
  case RTL_CMD_LATENCY_SET: {
    RtlJackInfo info;
    rtl_jack_info(c->config.jack, &info);
    const char* reason = NULL;
    if (rtl_process_set_latency_ms(c->config.process, (double)cmd->value,
                                   info.rate, &reason)) {
      rtl_osc_send_error(c->config.osc, &cmd->peer, "/latency/set", reason);
      return;
    }
    // The graph hears the new L from the latency callback.
    rtl_jack_update_latency(c->config.jack, true);
    ++c->cmds_applied;
    return;
  }
  case RTL_CMD_MIDI_MAP:
    rtl_model_map_cc(&c->model, (unsigned)cmd->ival, cmd->param);
    c->dirty = true;
    ++c->cmds_applied;
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
      const lo_message msg = lo_message_new();
      if (msg) {
        lo_message_add_int32(msg, s->id);
        rtl_osc_send(c->config.osc, &s->peer, "/synced", msg);
        lo_message_free(msg);
      }
    } else {
      c->syncs[kept++] = *s;
    }
  }
  c->n_syncs = kept;
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
  if (info.xruns != c->logged_xruns) {
    rtl_log("xrun (%llu in total)", (unsigned long long)info.xruns);
    c->logged_xruns = info.xruns;
  }
  const uint64_t drops = rtl_process_meter_drops(c->config.process);
  if (drops != c->logged_drops) {
    rtl_log("%llu meter readings dropped (control thread late)",
            (unsigned long long)(drops - c->logged_drops));
    c->logged_drops = drops;
  }
  const uint64_t late = rtl_process_late_events(c->config.process);
  if (late != c->logged_late) {
    rtl_log("%llu timed change(s) came too late for their frame (less than "
            "the write-ahead delay ahead); applied as soon as possible",
            (unsigned long long)(late - c->logged_late));
    c->logged_late = late;
  }
  RtlEngineStats stats;
  if (rtl_process_engine_stats(c->config.process, &stats)) {
    if (stats.underruns != c->logged_underruns) {
      rtl_log("write-ahead underrun: %llu frames of silence so far "
              "(%llu periods); the worker fell more than L behind",
              (unsigned long long)stats.underrun_frames,
              (unsigned long long)stats.underruns);
      c->logged_underruns = stats.underruns;
    }
    if (stats.overruns != c->logged_overruns) {
      rtl_log("write-ahead overrun (%llu in total)",
              (unsigned long long)stats.overruns);
      c->logged_overruns = stats.overruns;
    }
  }
}

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
    const RtlSubscriber* const s = &c->subs[i];
    if (s->used && (s->topics & (1U << RTL_TOPIC_METERS))) {
      const int64_t w = s->next_meter_ns - now;
      wait            = w < wait ? w : wait;
    }
  }
  return wait > 0 ? wait : 0;
}

static void*
control_thread(void* const arg)
{
  RtlControl* const c = (RtlControl*)arg;
  RtlCommand        cmd;
  int64_t           wait = 0;
  while (!atomic_load_explicit(&c->quit, memory_order_acquire)) {
    if (wait > 0) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      const int64_t deadline =
        (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + wait;
      ts.tv_sec  = (time_t)(deadline / 1000000000LL);
      ts.tv_nsec = (long)(deadline % 1000000000LL);
      while (sem_clockwait(c->config.wake, CLOCK_MONOTONIC, &ts) &&
             errno == EINTR) {
      }
    }
    // Several posts may have piled up for commands already handled.
    while (!sem_trywait(c->config.wake)) {
    }

    int64_t now = now_ns();
    if (atomic_exchange_explicit(&c->resync, false, memory_order_acq_rel)) {
      resync(c, now);
    }
    // A new sample rate makes the same milliseconds another L; a new
    // period changes nothing here but the graph is told again all the same.
    if (rtl_jack_rate_changed(c->config.jack)) {
      RtlJackInfo info;
      rtl_jack_info(c->config.jack, &info);
      rtl_process_follow_latency(c->config.process, info.rate);
      rtl_jack_update_latency(c->config.jack, true);
    } else {
      rtl_jack_update_latency(c->config.jack, false);
    }
    // Before the commands, so a /get sees what the CCs did.
    read_reports(c, now);
    for (unsigned n = 0U;
         n < RTL_BATCH && rtl_queue_pop(c->config.queue, &cmd) == RTL_SUCCESS;
         ++n) {
      apply(c, &cmd, now);
    }
    const int64_t timed_in = run_timed(c, now);
    publish(c);
    confirm_syncs(c);

    now = now_ns();
    read_meters(c, now);
    send_meters(c, now);
    send_state(c, now);
    log_health(c, now);
    wait =
      rtl_queue_size(c->config.queue) ? 0 : next_deadline(c, now, timed_in);
  }
  return NULL;
}

// --- life cycle --------------------------------------------------------------

RtlStatus
rtl_control_new(const RtlControlConfig* const config,
                RtlControl** const            control)
{
  *control            = NULL;
  RtlControl* const c = (RtlControl*)rtl_calloc(NULL, 1U, sizeof(RtlControl));
  if (!c) {
    return RTL_NO_MEM;
  }
  c->config = *config;
  c->syncs =
    (RtlPendingSync*)rtl_calloc(NULL, RTL_MAX_SYNCS, sizeof(RtlPendingSync));
  c->timed       = (RtlTimed*)rtl_calloc(NULL, RTL_MAX_TIMED, sizeof(RtlTimed));
  c->state_dirty = (uint8_t*)rtl_calloc(NULL, config->table->n_params, 1U);
  c->cc_serial =
    (uint32_t*)rtl_calloc(NULL, config->table->n_params, sizeof(uint32_t));
  c->cc_base =
    (uint32_t*)rtl_calloc(NULL, config->table->n_params, sizeof(uint32_t));
  if (!c->syncs || !c->timed || !c->state_dirty || !c->cc_serial ||
      !c->cc_base ||
      rtl_model_init(&c->model, config->table) != RTL_SUCCESS) {
    rtl_control_free(c);
    return RTL_NO_MEM;
  }
  c->last_state_ns = now_ns() - RTL_STATE_WINDOW_NS;
  c->last_meter_ns = now_ns() - RTL_METER_HOLD_NS;
  c->dirty         = true;
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
  rtl_free(NULL, c->syncs);
  rtl_free(NULL, c->timed);
  rtl_free(NULL, c->state_dirty);
  rtl_free(NULL, c->cc_serial);
  rtl_free(NULL, c->cc_base);
  rtl_free(NULL, c);
}

RtlStatus
rtl_control_start(RtlControl* const c)
{
  // With mlockall(MCL_FUTURE) a default 8 MiB stack would be locked whole.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, RTL_THREAD_STACK);
  const int err = pthread_create(&c->thread, &attr, control_thread, c);
  pthread_attr_destroy(&attr);
  if (err) {
    return RTL_SYSTEM_ERROR;
  }
  c->thread_started = true;
  return RTL_SUCCESS;
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
rtl_control_resync(RtlControl* const c)
{
  atomic_store_explicit(&c->resync, true, memory_order_release);
  sem_post(c->config.wake);
}
