// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "process.h"

#include "command.h"

#include <rtlane/allocator.h>
#include <rtlane/meter.h>

#include <jack/midiport.h>

#include <math.h>
#include <stddef.h>
#include <string.h>

/// Events the RT thread holds at once; the control thread holds the rest.
#define RTL_RT_PENDING 256U

/// Control -> RT ring slots, and RT -> control meter ring slots.
#define RTL_EVENT_SLOTS 256U
#define RTL_METER_SLOTS 128U

typedef struct {
  float    gain;  ///< Linear fader gain (0 at -90 dB)
  float    pan_l; ///< Constant-power pan gains
  float    pan_r;
  bool     mute;
  bool     solo;
  float    cur_l; ///< Gains applied now, ramping towards tgt_*
  float    cur_r;
  float    tgt_l;
  float    tgt_r;
  float    inc_l;
  float    inc_r;
  uint32_t ramp; ///< Frames of ramp left
} RtlChannel;

typedef struct {
  float    cur;
  float    tgt;
  float    inc;
  uint32_t ramp;
} RtlRamp;

struct RtlProcessImpl {
  // Set up before activation, read-only on the RT thread.
  const RtlParamTable* table;
  unsigned             n_inputs;
  unsigned             n_meters;
  jack_client_t*       client;
  RtlPorts             ports;
  RtlSnapshot*         snapshot;
  RtlMsgRing*          events;
  RtlMsgRing*          meters;

  // Shared with other threads.
  _Atomic uint64_t adopted_seq;
  _Atomic uint64_t frames;
  _Atomic uint64_t period_frame; ///< 64-bit frame time of the last period
  _Atomic bool     started;      ///< period_frame is valid
  _Atomic uint64_t meter_drops;
  _Atomic uint32_t sample_rate;   ///< Written by the sample-rate callback
  _Atomic uint32_t click_current; ///< Which click table is valid (0 or 1)
  _Atomic uint32_t epoch;         ///< Bumped by every attach

  // RT thread only from here on.
  uint32_t      rate; ///< The rate the fields below were set for
  uint32_t      ramp_frames;
  uint32_t      meter_interval;
  uint64_t      seq;     ///< Adopted snapshot sequence
  uint64_t      first64; ///< JACK's 32-bit frame time, unwrapped
  uint32_t*     serials; ///< Adopted serial per parameter
  RtlChannel*   ch;
  RtlRamp       master;
  unsigned      n_solo;
  const float** in_buf;

  RtlEvent* pending; ///< Sorted by frame, arrival order kept
  unsigned  n_pending;

  // Transport and click.
  bool     running;
  float    bpm;
  double   beat_len;   ///< Frames per beat
  double   next_beat;  ///< Frames until the next click starts
  uint64_t beat_index; ///< Beats clicked since the last rewind
  uint32_t click_pos;  ///< Frames into the current click
  float    click_amp;
  float*   click_table[2];
  uint32_t click_len[2];

  // Meters, accumulated over meter_interval frames.
  float*      peak_acc;
  float*      sumsq_acc;
  uint32_t    meter_frames;
  RtlMeterMsg meter_msg;
};

// --- set-up ----------------------------------------------------------------

static void
fill_click(float* const table, const uint32_t rate, uint32_t* const len)
{
  const uint32_t n = rate * RTL_CLICK_MS / 1000U;
  for (uint32_t i = 0U; i < n; ++i) {
    const double t   = (double)i / (double)rate;
    const double env = 1.0 - (double)i / (double)n;
    table[i]         = (float)(cos(2.0 * M_PI * RTL_CLICK_HZ * t) * env);
  }
  *len = n;
}

static void
touch(void* const ptr, const size_t size)
{
  // Zero is what the RT thread expects to find; writing it maps the pages
  // now rather than on the first period.
  memset(ptr, 0, size);
}

RtlStatus
rtl_process_new(const RtlParamTable* const table,
                RtlSnapshot* const         snapshot,
                const uint32_t             sample_rate,
                RtlProcess** const         process)
{
  *process = NULL;
  RtlProcess* const p =
    (RtlProcess*)rtl_aligned_alloc(NULL, 128U, sizeof(RtlProcess));
  if (!p) {
    return RTL_NO_MEM;
  }
  touch(p, sizeof(*p));
  p->table    = table;
  p->n_inputs = table->n_inputs;
  p->n_meters = table->n_inputs + 2U;
  p->snapshot = snapshot;

  const size_t n         = p->n_inputs;
  const size_t click_max = RTL_CLICK_MAX_RATE * RTL_CLICK_MS / 1000U;
  p->serials   = (uint32_t*)rtl_calloc(NULL, table->n_params, sizeof(uint32_t));
  p->ch        = (RtlChannel*)rtl_calloc(NULL, n, sizeof(RtlChannel));
  p->in_buf    = (const float**)rtl_calloc(NULL, n, sizeof(float*));
  p->pending   = (RtlEvent*)rtl_calloc(NULL, RTL_RT_PENDING, sizeof(RtlEvent));
  p->peak_acc  = (float*)rtl_calloc(NULL, p->n_meters, sizeof(float));
  p->sumsq_acc = (float*)rtl_calloc(NULL, p->n_meters, sizeof(float));
  p->click_table[0] = (float*)rtl_calloc(NULL, click_max, sizeof(float));
  p->click_table[1] = (float*)rtl_calloc(NULL, click_max, sizeof(float));
  if (!p->serials || !p->ch || !p->in_buf || !p->pending || !p->peak_acc ||
      !p->sumsq_acc || !p->click_table[0] || !p->click_table[1]) {
    rtl_process_free(p);
    return RTL_NO_MEM;
  }
  touch(p->serials, table->n_params * sizeof(uint32_t));
  touch(p->ch, n * sizeof(RtlChannel));
  touch(p->in_buf, n * sizeof(float*));
  touch(p->pending, RTL_RT_PENDING * sizeof(RtlEvent));
  touch(p->peak_acc, p->n_meters * sizeof(float));
  touch(p->sumsq_acc, p->n_meters * sizeof(float));
  touch(p->click_table[0], click_max * sizeof(float));
  touch(p->click_table[1], click_max * sizeof(float));

  RtlStatus st =
    rtl_msgring_new(NULL, RTL_EVENT_SLOTS, sizeof(RtlEvent), &p->events);
  if (!st) {
    st =
      rtl_msgring_new(NULL, RTL_METER_SLOTS, sizeof(RtlMeterMsg), &p->meters);
  }
  if (st) {
    rtl_process_free(p);
    return st;
  }
  // Locking may be refused (RLIMIT_MEMLOCK); the pages are touched anyway.
  (void)rtl_msgring_lock_memory(p->events);
  (void)rtl_msgring_lock_memory(p->meters);

  rtl_process_set_sample_rate(p, sample_rate);
  *process = p;
  return RTL_SUCCESS;
}

void
rtl_process_free(RtlProcess* const p)
{
  if (!p) {
    return;
  }
  rtl_msgring_free(p->events);
  rtl_msgring_free(p->meters);
  rtl_free(NULL, p->serials);
  rtl_free(NULL, p->ch);
  rtl_free(NULL, (void*)p->in_buf);
  rtl_free(NULL, p->pending);
  rtl_free(NULL, p->peak_acc);
  rtl_free(NULL, p->sumsq_acc);
  rtl_free(NULL, p->click_table[0]);
  rtl_free(NULL, p->click_table[1]);
  rtl_aligned_free(NULL, p);
}

RtlMsgRing*
rtl_process_events(RtlProcess* const p)
{
  return p->events;
}

RtlMsgRing*
rtl_process_meters(RtlProcess* const p)
{
  return p->meters;
}

void
rtl_process_set_sample_rate(RtlProcess* const p, const uint32_t sample_rate)
{
  const uint32_t rate = sample_rate ? sample_rate : 48000U;
  if (rate > RTL_CLICK_MAX_RATE) {
    return;
  }
  // Fill the table the RT thread is not reading, then switch to it.
  const uint32_t next =
    1U - atomic_load_explicit(&p->click_current, memory_order_relaxed);
  fill_click(p->click_table[next], rate, &p->click_len[next]);
  atomic_store_explicit(&p->click_current, next, memory_order_release);
  atomic_store_explicit(&p->sample_rate, rate, memory_order_release);
}

uint32_t
rtl_process_epoch(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->epoch, memory_order_acquire);
}

uint64_t
rtl_process_adopted_seq(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->adopted_seq, memory_order_acquire);
}

uint64_t
rtl_process_frames(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->frames, memory_order_relaxed);
}

uint64_t
rtl_process_meter_drops(const RtlProcess* const p)
{
  return atomic_load_explicit(&p->meter_drops, memory_order_relaxed);
}

// --- parameters (RT) -------------------------------------------------------

static float
fader_gain(const float db)
{
  return db <= RTL_GAIN_MIN_DB ? 0.0f : rtl_db_to_gain(db);
}

static void
ramp_to(float* const   cur,
        float* const   tgt,
        float* const   inc,
        const float    target,
        const uint32_t frames)
{
  *tgt = target;
  *inc = (target - *cur) / (float)frames;
}

static void
retarget(RtlProcess* const p, RtlChannel* const c)
{
  const bool  audible = !c->mute && (!p->n_solo || c->solo);
  const float g       = audible ? c->gain : 0.0f;
  const float tl      = g * c->pan_l;
  const float tr      = g * c->pan_r;
  if (tl == c->tgt_l && tr == c->tgt_r) {
    return;
  }
  ramp_to(&c->cur_l, &c->tgt_l, &c->inc_l, tl, p->ramp_frames);
  ramp_to(&c->cur_r, &c->tgt_r, &c->inc_r, tr, p->ramp_frames);
  c->ramp = p->ramp_frames;
}

static void
set_bpm(RtlProcess* const p, const float bpm)
{
  const double len = 60.0 * (double)p->rate / (double)bpm;
  if (p->beat_len > 0.0) {
    // Keep the phase within the beat across the change.
    p->next_beat *= len / p->beat_len;
  }
  p->bpm      = bpm;
  p->beat_len = len;
}

/// Apply one parameter value.  Returns true if every channel needs retargeting.
static bool
apply_param(RtlProcess* const p, const unsigned index, const float value)
{
  const RtlParamInfo* const info = &p->table->params[index];
  RtlChannel* const         c    = &p->ch[info->channel];
  switch (info->kind) {
  case RTL_PARAM_CH_GAIN:
    c->gain = fader_gain(value);
    retarget(p, c);
    return false;
  case RTL_PARAM_CH_PAN: {
    const float angle = (value + 1.0f) * (float)(M_PI / 4.0);
    c->pan_l          = cosf(angle);
    c->pan_r          = sinf(angle);
    retarget(p, c);
    return false;
  }
  case RTL_PARAM_CH_MUTE:
    c->mute = value != 0.0f;
    retarget(p, c);
    return false;
  case RTL_PARAM_CH_SOLO: {
    const bool solo = value != 0.0f;
    if (solo != c->solo) {
      c->solo   = solo;
      p->n_solo = solo ? p->n_solo + 1U : p->n_solo - 1U;
    }
    return true;
  }
  case RTL_PARAM_MASTER_GAIN: {
    const float g = fader_gain(value);
    if (g != p->master.tgt) {
      ramp_to(&p->master.cur, &p->master.tgt, &p->master.inc, g,
              p->ramp_frames);
      p->master.ramp = p->ramp_frames;
    }
    return false;
  }
  case RTL_PARAM_BPM:
    set_bpm(p, value);
    return false;
  }
  return false;
}

static void
retarget_all(RtlProcess* const p)
{
  for (unsigned i = 0U; i < p->n_inputs; ++i) {
    retarget(p, &p->ch[i]);
  }
}

static void
transport(RtlProcess* const p, const uint32_t op)
{
  switch ((RtlTransportOp)op) {
  case RTL_TRANSPORT_START:
    p->running = true;
    break;
  case RTL_TRANSPORT_STOP:
    p->running    = false;
    p->next_beat  = 0.0;
    p->beat_index = 0U;
    break;
  case RTL_TRANSPORT_PAUSE:
    p->running = false;
    break;
  case RTL_TRANSPORT_RESET:
    p->next_beat  = 0.0;
    p->beat_index = 0U;
    break;
  }
}

static void
apply_event(RtlProcess* const p, const RtlEvent* const ev)
{
  if (ev->type == RTL_EV_PARAM && ev->param < p->table->n_params) {
    if (apply_param(p, ev->param, ev->value)) {
      retarget_all(p);
    }
  } else if (ev->type == RTL_EV_TRANSPORT) {
    transport(p, ev->op);
  }
}

/// Follow a sample-rate change: ramps, tempo and meter interval are in frames.
static void
follow_rate(RtlProcess* const p)
{
  const uint32_t rate =
    atomic_load_explicit(&p->sample_rate, memory_order_acquire);
  if (rate == p->rate) {
    return;
  }
  p->rate           = rate;
  p->ramp_frames    = rate * RTL_RAMP_MS / 1000U;
  p->meter_interval = rate * RTL_METER_INTERVAL_MS / 1000U;
  if (!p->ramp_frames) {
    p->ramp_frames = 1U;
  }
  set_bpm(p, p->bpm);
}

void
rtl_process_attach(RtlProcess* const     p,
                   jack_client_t* const  client,
                   const RtlPorts* const ports)
{
  p->client = client;
  p->ports  = *ports;
  atomic_fetch_add_explicit(&p->epoch, 1U, memory_order_acq_rel);

  // Start from the defaults; the control thread republishes the current
  // values, and serials of zero make the RT thread adopt every one of them.
  p->seq        = 0U;
  p->n_pending  = 0U;
  p->running    = false;
  p->next_beat  = 0.0;
  p->beat_index = 0U;
  p->click_pos  = UINT32_MAX;
  p->n_solo     = 0U;
  p->beat_len   = 0.0;
  p->rate       = 0U;
  p->bpm        = p->table->params[rtl_param_bpm_index(p->table)].def;
  follow_rate(p);
  memset(p->serials, 0, p->table->n_params * sizeof(uint32_t));
  for (unsigned i = 0U; i < p->n_inputs; ++i) {
    RtlChannel* const c = &p->ch[i];
    *c                  = (RtlChannel){ 0 };
  }
  for (unsigned i = 0U; i < p->table->n_params; ++i) {
    (void)apply_param(p, i, p->table->params[i].def);
  }
  retarget_all(p);
  // No ramps at start: the defaults are where the mixer begins.
  for (unsigned i = 0U; i < p->n_inputs; ++i) {
    RtlChannel* const c = &p->ch[i];
    c->cur_l            = c->tgt_l;
    c->cur_r            = c->tgt_r;
    c->ramp             = 0U;
  }
  p->master.cur   = p->master.tgt;
  p->master.ramp  = 0U;
  p->meter_frames = 0U;
  memset(p->peak_acc, 0, p->n_meters * sizeof(float));
  memset(p->sumsq_acc, 0, p->n_meters * sizeof(float));
  atomic_store_explicit(&p->adopted_seq, 0U, memory_order_release);
  atomic_store_explicit(&p->started, false, memory_order_release);
}

uint64_t
rtl_process_frame64(const RtlProcess* const p, const jack_nframes_t frame)
{
  if (!atomic_load_explicit(&p->started, memory_order_acquire)) {
    return frame;
  }
  const uint64_t base =
    atomic_load_explicit(&p->period_frame, memory_order_relaxed);
  const int32_t diff = (int32_t)(frame - (uint32_t)base);
  return (uint64_t)((int64_t)base + diff);
}

// --- the process callback ----------------------------------------------------

static void
adopt_snapshot(RtlProcess* const p)
{
  const RtlStateSnapshot* const s =
    (const RtlStateSnapshot*)rtl_snapshot_read_begin(p->snapshot);
  if (s && s->seq != p->seq) {
    bool           all = false;
    const uint32_t n =
      s->n_params < p->table->n_params ? s->n_params : p->table->n_params;
    for (uint32_t i = 0U; i < n; ++i) {
      const RtlSlot* const slot = &s->slots[i];
      if (slot->serial != p->serials[i]) {
        p->serials[i] = slot->serial;
        // A timed value was applied at its frame already; the snapshot
        // only catches up with it.
        if (!(slot->flags & RTL_SLOT_TIMED)) {
          all |= apply_param(p, i, slot->value);
        }
      }
    }
    if (all) {
      retarget_all(p);
    }
    p->seq = s->seq;
  }
  rtl_snapshot_read_end(p->snapshot);
}

/// Move events from the ring into the sorted pending list, while there is room.
static void
drain_events(RtlProcess* const p)
{
  RtlMsgHeader   hdr;
  RtlEvent       ev;
  const uint32_t epoch = atomic_load_explicit(&p->epoch, memory_order_relaxed);
  while (p->n_pending < RTL_RT_PENDING &&
         rtl_msgring_recv(p->events, &hdr, &ev, sizeof(ev)) == RTL_SUCCESS) {
    if (hdr.size != sizeof(ev) || ev.epoch != epoch) {
      continue;
    }
    unsigned i = p->n_pending;
    while (i > 0U && p->pending[i - 1U].frame > ev.frame) {
      p->pending[i] = p->pending[i - 1U];
      --i;
    }
    p->pending[i] = ev;
    ++p->n_pending;
  }
}

static void
mix_channel(RtlChannel* const  c,
            const float* const in,
            float* const       out_l,
            float* const       out_r,
            const uint32_t     start,
            const uint32_t     end)
{
  uint32_t i = start;
  if (c->ramp) {
    const uint32_t stop = (end - i) < c->ramp ? end : i + c->ramp;
    float          gl   = c->cur_l;
    float          gr   = c->cur_r;
    for (; i < stop; ++i) {
      gl += c->inc_l;
      gr += c->inc_r;
      out_l[i] += in[i] * gl;
      out_r[i] += in[i] * gr;
    }
    c->ramp -= stop - start;
    if (!c->ramp) {
      gl = c->tgt_l;
      gr = c->tgt_r;
    }
    c->cur_l = gl;
    c->cur_r = gr;
  }
  const float gl = c->cur_l;
  const float gr = c->cur_r;
  if (gl == 0.0f && gr == 0.0f) {
    return;
  }
  for (; i < end; ++i) {
    out_l[i] += in[i] * gl;
    out_r[i] += in[i] * gr;
  }
}

static void
apply_master(RtlRamp* const m,
             float* const   out_l,
             float* const   out_r,
             const uint32_t start,
             const uint32_t end)
{
  uint32_t i = start;
  if (m->ramp) {
    const uint32_t stop = (end - i) < m->ramp ? end : i + m->ramp;
    float          g    = m->cur;
    for (; i < stop; ++i) {
      g += m->inc;
      out_l[i] *= g;
      out_r[i] *= g;
    }
    m->ramp -= stop - start;
    m->cur = m->ramp ? g : m->tgt;
  }
  const float g = m->cur;
  if (g == 1.0f) {
    return;
  }
  for (; i < end; ++i) {
    out_l[i] *= g;
    out_r[i] *= g;
  }
}

static void
render_click(RtlProcess* const p,
             float* const      out,
             const uint32_t    start,
             const uint32_t    end)
{
  const uint32_t cur =
    atomic_load_explicit(&p->click_current, memory_order_acquire);
  const float*   table = p->click_table[cur];
  const uint32_t len   = p->click_len[cur];

  uint32_t i = start;
  while (i < end) {
    uint32_t run = end - i;
    if (p->running) {
      if (p->next_beat <= 0.0) {
        p->click_pos = 0U;
        p->click_amp = (p->beat_index % RTL_BEATS_PER_BAR) ? RTL_CLICK_BEAT
                                                           : RTL_CLICK_DOWNBEAT;
        ++p->beat_index;
        p->next_beat += p->beat_len;
      }
      const double until = ceil(p->next_beat);
      if (until < (double)run) {
        run = until < 1.0 ? 1U : (uint32_t)until;
      }
      p->next_beat -= (double)run;
    }
    for (uint32_t k = 0U; k < run; ++k) {
      if (p->click_pos < len) {
        out[i + k] = table[p->click_pos] * p->click_amp;
        ++p->click_pos;
      } else {
        out[i + k] = 0.0f;
      }
    }
    i += run;
  }
}

static void
render(RtlProcess* const p,
       float* const      out_l,
       float* const      out_r,
       float* const      click,
       const uint32_t    start,
       const uint32_t    end)
{
  if (start >= end) {
    return;
  }
  for (unsigned c = 0U; c < p->n_inputs; ++c) {
    mix_channel(&p->ch[c], p->in_buf[c], out_l, out_r, start, end);
  }
  apply_master(&p->master, out_l, out_r, start, end);
  render_click(p, click, start, end);
}

static void
meter(RtlProcess* const  p,
      const float* const out_l,
      const float* const out_r,
      const uint32_t     nframes,
      const uint64_t     frame_end)
{
  const unsigned n = p->n_meters;
  for (unsigned m = 0U; m < n; ++m) {
    const float* const buf  = m < p->n_inputs    ? p->in_buf[m]
                              : m == p->n_inputs ? out_l
                                                 : out_r;
    const float        peak = rtl_block_peak(buf, nframes);
    const float        rms  = rtl_block_rms(buf, nframes);
    if (peak > p->peak_acc[m]) {
      p->peak_acc[m] = peak;
    }
    p->sumsq_acc[m] += rms * rms * (float)nframes;
  }
  p->meter_frames += nframes;
  if (p->meter_frames < p->meter_interval) {
    return;
  }

  RtlMeterMsg* const msg = &p->meter_msg;
  msg->frame             = frame_end;
  msg->n                 = n;
  msg->frames            = p->meter_frames;
  for (unsigned m = 0U; m < n; ++m) {
    msg->v[m]       = p->peak_acc[m];
    msg->v[n + m]   = sqrtf(p->sumsq_acc[m] / (float)p->meter_frames);
    p->peak_acc[m]  = 0.0f;
    p->sumsq_acc[m] = 0.0f;
  }
  p->meter_frames = 0U;
  const uint32_t size =
    (uint32_t)(offsetof(RtlMeterMsg, v) + 2U * n * sizeof(float));
  if (rtl_msgring_send(p->meters, RTL_MSG_METERS, msg, size) != RTL_SUCCESS) {
    atomic_fetch_add_explicit(&p->meter_drops, 1U, memory_order_relaxed);
  }
}

static void
midi_through(const RtlPorts* const ports, const jack_nframes_t nframes)
{
  void* const in  = jack_port_get_buffer(ports->midi_in, nframes);
  void* const out = jack_port_get_buffer(ports->midi_out, nframes);
  jack_midi_clear_buffer(out);
  const uint32_t n = jack_midi_get_event_count(in);
  for (uint32_t i = 0U; i < n; ++i) {
    jack_midi_event_t ev;
    if (!jack_midi_event_get(&ev, in, i)) {
      (void)jack_midi_event_write(out, ev.time, ev.buffer, ev.size);
    }
  }
}

int
rtl_process_run(const jack_nframes_t nframes, void* const arg)
{
  RtlProcess* const p = (RtlProcess*)arg;
  follow_rate(p);

  // Snapshot first, then the ring: the control thread sends events before
  // it publishes, so having seen a snapshot means its events are visible.
  const uint64_t old_seq = p->seq;
  adopt_snapshot(p);
  drain_events(p);
  if (p->seq != old_seq) {
    atomic_store_explicit(&p->adopted_seq, p->seq, memory_order_release);
  }

  for (unsigned c = 0U; c < p->n_inputs; ++c) {
    p->in_buf[c] = (const float*)jack_port_get_buffer(p->ports.in[c], nframes);
  }
  float* const out_l = (float*)jack_port_get_buffer(p->ports.out_l, nframes);
  float* const out_r = (float*)jack_port_get_buffer(p->ports.out_r, nframes);
  float* const click = (float*)jack_port_get_buffer(p->ports.click, nframes);
  memset(out_l, 0, nframes * sizeof(float));
  memset(out_r, 0, nframes * sizeof(float));

  // Split the period at each event's frame so it takes effect exactly there.
  const jack_nframes_t first32 = jack_last_frame_time(p->client);
  if (atomic_load_explicit(&p->started, memory_order_relaxed)) {
    p->first64 += (uint32_t)(first32 - (uint32_t)p->first64);
  } else {
    p->first64 = first32;
  }
  atomic_store_explicit(&p->period_frame, p->first64, memory_order_relaxed);
  atomic_store_explicit(&p->started, true, memory_order_release);
  const uint64_t first = p->first64;
  const uint64_t limit = first + nframes;
  uint32_t       pos   = 0U;
  unsigned       done  = 0U;
  while (done < p->n_pending && p->pending[done].frame < limit) {
    const uint64_t f   = p->pending[done].frame;
    const uint32_t off = f > first ? (uint32_t)(f - first) : 0U;
    render(p, out_l, out_r, click, pos, off > pos ? off : pos);
    if (off > pos) {
      pos = off;
    }
    apply_event(p, &p->pending[done]);
    ++done;
  }
  render(p, out_l, out_r, click, pos, nframes);
  if (done) {
    memmove(p->pending, p->pending + done,
            (p->n_pending - done) * sizeof(RtlEvent));
    p->n_pending -= done;
  }

  midi_through(&p->ports, nframes);
  meter(p, out_l, out_r, nframes, limit);
  atomic_store_explicit(&p->frames,
                        atomic_load_explicit(&p->frames, memory_order_relaxed) +
                          nframes,
                        memory_order_relaxed);
  return 0;
}
