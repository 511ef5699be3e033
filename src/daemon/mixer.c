// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "mixer.h"

#include "common.h"

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/meter.h>

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/// Mixer -> control report slots: a CC sweep of a few hundred messages
/// between two control rounds fits.
#define RTL_REPORT_SLOTS 512U

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

struct RtlMixerImpl {
  // Set up at creation, read-only afterwards.
  RtlAllocator*        allocator;
  const RtlParamTable* table;
  unsigned             n_inputs;
  RtlMsgRing*          reports;

  // Shared with other threads.
  _Atomic uint64_t adopted_seq;
  _Atomic uint64_t report_drops;
  _Atomic uint32_t sample_rate;   ///< Written by rtl_mixer_set_sample_rate
  _Atomic uint32_t click_current; ///< Which click table is valid (0 or 1)

  // The mixer's thread only from here on.
  uint32_t    rate; ///< The rate the fields below were set for
  uint32_t    ramp_frames;
  uint32_t*   serials; ///< Serial of each parameter's last setting
  uint16_t    ccmap[RTL_MIDI_CCS];
  RtlChannel* ch;
  RtlRamp     master;
  unsigned    n_solo;

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

RtlStatus
rtl_mixer_new(RtlAllocator* const        allocator,
              const RtlParamTable* const table,
              RtlMixer** const           mixer)
{
  *mixer = NULL;
  RtlMixer* const m =
    (RtlMixer*)rtl_aligned_alloc(allocator, RTL_CACHE_LINE, sizeof(RtlMixer));
  if (!m) {
    return RTL_NO_MEM;
  }
  memset(m, 0, sizeof(*m));
  m->allocator = allocator;
  m->table     = table;
  m->n_inputs  = table->n_inputs;

  const size_t n         = m->n_inputs;
  const size_t click_max = RTL_CLICK_MAX_RATE * RTL_CLICK_MS / 1000U;
  m->serials =
    (uint32_t*)rtl_calloc(allocator, table->n_params, sizeof(uint32_t));
  m->ch             = (RtlChannel*)rtl_calloc(allocator, n, sizeof(RtlChannel));
  m->click_table[0] = (float*)rtl_calloc(allocator, click_max, sizeof(float));
  m->click_table[1] = (float*)rtl_calloc(allocator, click_max, sizeof(float));
  RtlStatus st      = RTL_NO_MEM;
  if (!m->serials || !m->ch || !m->click_table[0] || !m->click_table[1] ||
      (st = rtl_comm_ring_new(
         allocator, RTL_COMM_REPORT, RTL_REPORT_SLOTS, &m->reports))) {
    rtl_mixer_free(m);
    return st;
  }
  // Map every page the mixer's thread touches now, not in its first block.
  (void)rtl_lock_memory(m, sizeof(*m));
  (void)rtl_lock_memory(m->serials, table->n_params * sizeof(uint32_t));
  (void)rtl_lock_memory(m->ch, n * sizeof(RtlChannel));
  (void)rtl_lock_memory(m->click_table[0], click_max * sizeof(float));
  (void)rtl_lock_memory(m->click_table[1], click_max * sizeof(float));

  rtl_mixer_set_sample_rate(m, 48000U);
  rtl_mixer_reset(m);
  *mixer = m;
  return RTL_SUCCESS;
}

void
rtl_mixer_free(RtlMixer* const m)
{
  if (!m) {
    return;
  }
  rtl_msgring_free(m->reports);
  rtl_free(m->allocator, m->serials);
  rtl_free(m->allocator, m->ch);
  rtl_free(m->allocator, m->click_table[0]);
  rtl_free(m->allocator, m->click_table[1]);
  rtl_aligned_free(m->allocator, m);
}

void
rtl_mixer_set_sample_rate(RtlMixer* const m, const uint32_t sample_rate)
{
  const uint32_t rate = sample_rate ? sample_rate : 48000U;
  if (rate > RTL_CLICK_MAX_RATE) {
    return;
  }
  // Fill the table the mixer is not reading, then switch to it.
  const uint32_t next =
    1U - atomic_load_explicit(&m->click_current, memory_order_relaxed);
  fill_click(m->click_table[next], rate, &m->click_len[next]);
  atomic_store_explicit(&m->click_current, next, memory_order_release);
  atomic_store_explicit(&m->sample_rate, rate, memory_order_release);
}

uint64_t
rtl_mixer_adopted_seq(const RtlMixer* const m)
{
  return atomic_load_explicit(&m->adopted_seq, memory_order_acquire);
}

RtlMsgRing*
rtl_mixer_reports(RtlMixer* const m)
{
  return m->reports;
}

uint64_t
rtl_mixer_report_drops(const RtlMixer* const m)
{
  return atomic_load_explicit(&m->report_drops, memory_order_relaxed);
}

// --- parameters ------------------------------------------------------------

static RTL_REALTIME float
fader_gain(const float db)
{
  return db <= RTL_GAIN_MIN_DB ? 0.0f : rtl_db_to_gain(db);
}

static RTL_REALTIME void
ramp_to(float* const   cur,
        float* const   tgt,
        float* const   inc,
        const float    target,
        const uint32_t frames)
{
  *tgt = target;
  *inc = (target - *cur) / (float)frames;
}

static RTL_REALTIME void
retarget(RtlMixer* const m, RtlChannel* const c)
{
  const bool  audible = !c->mute && (!m->n_solo || c->solo);
  const float g       = audible ? c->gain : 0.0f;
  const float tl      = g * c->pan_l;
  const float tr      = g * c->pan_r;
  if (tl == c->tgt_l && tr == c->tgt_r) {
    return;
  }
  ramp_to(&c->cur_l, &c->tgt_l, &c->inc_l, tl, m->ramp_frames);
  ramp_to(&c->cur_r, &c->tgt_r, &c->inc_r, tr, m->ramp_frames);
  c->ramp = m->ramp_frames;
}

static RTL_REALTIME void
retarget_all(RtlMixer* const m)
{
  for (unsigned i = 0U; i < m->n_inputs; ++i) {
    retarget(m, &m->ch[i]);
  }
}

static RTL_REALTIME void
set_bpm(RtlMixer* const m, const float bpm)
{
  const double len = 60.0 * (double)m->rate / (double)bpm;
  if (m->beat_len > 0.0) {
    // Keep the phase within the beat across the change.
    m->next_beat *= len / m->beat_len;
  }
  m->bpm      = bpm;
  m->beat_len = len;
}

/// Apply one parameter value, retargeting what it affects.
static RTL_REALTIME void
apply_param(RtlMixer* const m, const unsigned index, const float value)
{
  const RtlParamInfo* const info = &m->table->params[index];
  RtlChannel* const         c    = &m->ch[info->channel];
  switch (info->kind) {
  case RTL_PARAM_CH_GAIN:
    c->gain = fader_gain(value);
    retarget(m, c);
    return;
  case RTL_PARAM_CH_PAN: {
    const float angle = (value + 1.0f) * (float)(M_PI / 4.0);
    c->pan_l          = cosf(angle);
    c->pan_r          = sinf(angle);
    retarget(m, c);
    return;
  }
  case RTL_PARAM_CH_MUTE:
    c->mute = value != 0.0f;
    retarget(m, c);
    return;
  case RTL_PARAM_CH_SOLO: {
    const bool solo = value != 0.0f;
    if (solo != c->solo) {
      c->solo   = solo;
      m->n_solo = solo ? m->n_solo + 1U : m->n_solo - 1U;
      retarget_all(m);
    }
    return;
  }
  case RTL_PARAM_MASTER_GAIN: {
    const float g = fader_gain(value);
    if (g != m->master.tgt) {
      ramp_to(
        &m->master.cur, &m->master.tgt, &m->master.inc, g, m->ramp_frames);
      m->master.ramp = m->ramp_frames;
    }
    return;
  }
  case RTL_PARAM_BPM:
    set_bpm(m, value);
    return;
  }
}

static RTL_REALTIME void
transport(RtlMixer* const m, const uint32_t op)
{
  switch ((RtlTransportOp)op) {
  case RTL_TRANSPORT_START:
    m->running = true;
    break;
  case RTL_TRANSPORT_STOP:
    m->running    = false;
    m->next_beat  = 0.0;
    m->beat_index = 0U;
    break;
  case RTL_TRANSPORT_PAUSE:
    m->running = false;
    break;
  case RTL_TRANSPORT_RESET:
    m->next_beat  = 0.0;
    m->beat_index = 0U;
    break;
  }
}

/// Follow a sample-rate change: ramps and tempo are in frames.
static RTL_REALTIME void
follow_rate(RtlMixer* const m)
{
  const uint32_t rate =
    atomic_load_explicit(&m->sample_rate, memory_order_acquire);
  if (rate == m->rate) {
    return;
  }
  m->rate        = rate;
  m->ramp_frames = rate * RTL_RAMP_MS / 1000U;
  if (!m->ramp_frames) {
    m->ramp_frames = 1U;
  }
  set_bpm(m, m->bpm);
}

RTL_REALTIME void
rtl_mixer_reset(RtlMixer* const m)
{
  const RtlParamTable* const t = m->table;
  m->running                   = false;
  m->next_beat                 = 0.0;
  m->beat_index                = 0U;
  m->click_pos                 = UINT32_MAX;
  m->n_solo                    = 0U;
  m->beat_len                  = 0.0;
  m->rate                      = 0U;
  m->bpm                       = t->params[rtl_param_bpm_index(t)].def;
  m->master                    = (RtlRamp){0};
  follow_rate(m);
  memset(m->serials, 0, t->n_params * sizeof(uint32_t));
  memset(m->ccmap, 0, sizeof(m->ccmap));
  for (unsigned i = 0U; i < m->n_inputs; ++i) {
    m->ch[i] = (RtlChannel){0};
  }
  for (unsigned i = 0U; i < t->n_params; ++i) {
    apply_param(m, i, t->params[i].def);
  }
  retarget_all(m);
  // No ramps at start: the defaults are where the mixer begins.
  for (unsigned i = 0U; i < m->n_inputs; ++i) {
    RtlChannel* const c = &m->ch[i];
    c->cur_l            = c->tgt_l;
    c->cur_r            = c->tgt_r;
    c->ramp             = 0U;
  }
  m->master.cur  = m->master.tgt;
  m->master.ramp = 0U;
  atomic_store_explicit(&m->adopted_seq, 0U, memory_order_release);
}

// --- changes -----------------------------------------------------------------

static RTL_REALTIME void
apply_cue(RtlMixer* const m, const RtlCue* const cue)
{
  const uint32_t n_params = m->table->n_params;
  switch ((RtlCueKind)cue->kind) {
  case RTL_CUE_SLOT:
    if (cue->param < n_params) {
      m->serials[cue->param] = cue->serial;
      // A timed value, or one a CC set here, was applied at its frame
      // already; the snapshot only catches up with it.
      if (!(cue->flags & RTL_SLOT_TIMED)) {
        apply_param(m, cue->param, cue->value);
      }
    }
    return;
  case RTL_CUE_PARAM:
    if (cue->param < n_params) {
      apply_param(m, cue->param, cue->value);
    }
    return;
  case RTL_CUE_TRANSPORT:
    transport(m, cue->op);
    return;
  case RTL_CUE_CCMAP:
    if (cue->param < RTL_MIDI_CCS && cue->op <= n_params) {
      m->ccmap[cue->param] = (uint16_t)cue->op;
    }
    return;
  case RTL_CUE_SEQ:
    atomic_store_explicit(&m->adopted_seq, cue->seq, memory_order_release);
    return;
  }
}

/// A mapped control change moves its parameter: 0..127 spans its range.
static RTL_REALTIME void
apply_midi(RtlMixer* const m, const RtlMidiEvent* const ev)
{
  if (ev->size < 3U || ev->size > RTL_MIDI_EVENT_MAX ||
      (ev->data[0] & 0xF0U) != 0xB0U) {
    return;
  }
  const unsigned cc  = ev->data[1] & 0x7FU;
  const unsigned raw = ev->data[2] & 0x7FU;
  const unsigned map = m->ccmap[cc];
  if (!map) {
    return;
  }
  const unsigned            index = map - 1U;
  const RtlParamInfo* const info  = &m->table->params[index];
  float                     value = 0.0f;
  if (info->type == 'i') {
    value = raw >= 64U ? info->max : info->min;
  } else {
    value = info->min + (info->max - info->min) * (float)raw / 127.0f;
    value = value > info->max ? info->max : value;
  }
  apply_param(m, index, value);

  const RtlParamReport report = {index, value, m->serials[index], 0U};
  if (rtl_comm_send_report(m->reports, &report)) {
    rtl_counter_add(&m->report_drops, 1U);
  }
}

// --- rendering
// -----------------------------------------------------------------

static RTL_REALTIME void
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

static RTL_REALTIME void
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

static RTL_REALTIME void
render_click(RtlMixer* const m,
             float* const    out,
             const uint32_t  start,
             const uint32_t  end)
{
  const uint32_t cur =
    atomic_load_explicit(&m->click_current, memory_order_acquire);
  const float*   table = m->click_table[cur];
  const uint32_t len   = m->click_len[cur];

  uint32_t i = start;
  while (i < end) {
    uint32_t run = end - i;
    if (m->running) {
      if (m->next_beat <= 0.0) {
        m->click_pos = 0U;
        m->click_amp = (m->beat_index % RTL_BEATS_PER_BAR) ? RTL_CLICK_BEAT
                                                           : RTL_CLICK_DOWNBEAT;
        ++m->beat_index;
        m->next_beat += m->beat_len;
      }
      const double until = ceil(m->next_beat);
      if (until < (double)run) {
        run = until < 1.0 ? 1U : (uint32_t)until;
      }
      m->next_beat -= (double)run;
    }
    for (uint32_t k = 0U; k < run; ++k) {
      if (m->click_pos < len) {
        out[i + k] = table[m->click_pos] * m->click_amp;
        ++m->click_pos;
      } else {
        out[i + k] = 0.0f;
      }
    }
    i += run;
  }
}

static RTL_REALTIME void
render(RtlMixer* const           m,
       const float* const* const in,
       float* const              out_l,
       float* const              out_r,
       float* const              click,
       const uint32_t            start,
       const uint32_t            end)
{
  if (start >= end) {
    return;
  }
  for (unsigned c = 0U; c < m->n_inputs; ++c) {
    mix_channel(&m->ch[c], in[c], out_l, out_r, start, end);
  }
  apply_master(&m->master, out_l, out_r, start, end);
  render_click(m, click, start, end);
}

RTL_REALTIME void
rtl_mixer_run(RtlMixer* const           m,
              const float* const* const in,
              float* const              out_l,
              float* const              out_r,
              float* const              click,
              const uint32_t            n,
              const RtlCue* const       cues,
              const uint32_t            n_cues,
              const RtlMidiEvent* const midi,
              const uint32_t            n_midi)
{
  follow_rate(m);
  memset(out_l, 0, n * sizeof(float));
  memset(out_r, 0, n * sizeof(float));

  // Split the block at each change so that it takes effect exactly there.
  uint32_t pos = 0U;
  uint32_t ci  = 0U;
  uint32_t mi  = 0U;
  while (ci < n_cues || mi < n_midi) {
    const uint64_t cf        = ci < n_cues ? cues[ci].pos : UINT64_MAX;
    const uint64_t mf        = mi < n_midi ? midi[mi].frame : UINT64_MAX;
    const bool     cue_first = cf <= mf;
    const uint64_t f         = cue_first ? cf : mf;
    const uint32_t at        = f < n ? (uint32_t)f : n;
    if (at > pos) {
      render(m, in, out_l, out_r, click, pos, at);
      pos = at;
    }
    if (cue_first) {
      apply_cue(m, &cues[ci++]);
    } else {
      apply_midi(m, &midi[mi++]);
    }
  }
  render(m, in, out_l, out_r, click, pos, n);
}
