// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "jack.h"

#include "log.h"
#include "patchbay.h"

#include <rtlane/allocator.h>
#include <rtlane/snapshot.h>

#include <jack/jack.h>

#if defined(__SSE__)
#  include <xmmintrin.h>
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct RtlJackImpl {
  RtlJackConfig    config;
  pthread_mutex_t  lock; ///< Guards client and name against concurrent queries
  jack_client_t*   client;
  char             name[128];
  RtlPorts         ports;
  pthread_key_t    reader_key;
  _Atomic bool     gone;
  _Atomic bool     pipewire;      ///< PipeWire's JACK layer, not JACK2
  _Atomic bool     latency_dirty; ///< Period or rate changed
  _Atomic bool     rate_dirty;    ///< Rate changed
  _Atomic uint64_t xruns;
  _Atomic uint32_t rate;
  _Atomic uint32_t period;

  /// The client as JACK's callbacks see it, without the lock (which the
  /// main thread may hold while it closes the client and waits for them)
  _Atomic(jack_client_t*) cb_client;
  RtlPatchbay*            patchbay;
};

// --- libjack's messages ------------------------------------------------------

/// While connecting, and while closing a client whose server is gone,
/// libjack's complaints are replaced by our own one line.
static atomic_bool g_quiet;

static void
on_jack_error(const char* const msg)
{
  if (!atomic_load_explicit(&g_quiet, memory_order_relaxed)) {
    rtl_log("JACK: %s", msg);
  }
}

static void
on_jack_info(const char* const msg)
{
  (void)msg;
}

// --- callbacks (JACK's threads) ----------------------------------------------

static bool
on_pipewire(const RtlJack* const j)
{
  return atomic_load_explicit(&j->pipewire, memory_order_relaxed);
}

static void
reader_exit(void* const value)
{
  (void)value;
  rtl_snapshot_unregister_thread();
}

/// On the process thread, before its first cycle: become an RCU reader here,
/// not lazily on the audio path, and unregister when the thread ends.
static void
on_thread_init(void* const arg)
{
  RtlJack* const j = (RtlJack*)arg;
  rtl_snapshot_register_thread();
  (void)pthread_setspecific(j->reader_key, j);
#if defined(__SSE__)
  // Flush denormals to zero: a decaying ramp or a quiet input must not
  // make a period many times slower.
  _mm_setcsr(_mm_getcsr() | 0x8040U);
#endif
}

static int
on_xrun(void* const arg)
{
  RtlJack* const j = (RtlJack*)arg;
  atomic_fetch_add_explicit(&j->xruns, 1U, memory_order_relaxed);
  return 0;
}

/// Have the control thread re-declare the latency: never from a JACK
/// callback, which may not make server requests.
static void
latency_changed(RtlJack* const j, const bool rate)
{
  if (rate) {
    atomic_store_explicit(&j->rate_dirty, true, memory_order_release);
  }
  atomic_store_explicit(&j->latency_dirty, true, memory_order_release);
  if (j->config.wake) {
    sem_post(j->config.wake);
  }
}

static int
on_buffer_size(const jack_nframes_t nframes, void* const arg)
{
  // Nothing to reallocate: the RT state is not sized by the period (the
  // engine cuts long periods into blocks).
  RtlJack* const j = (RtlJack*)arg;
  const uint32_t old =
    atomic_exchange_explicit(&j->period, nframes, memory_order_relaxed);
  if (old != nframes) {
    rtl_process_expect_jump(j->config.process);
    latency_changed(j, false);
  }
  return 0;
}

static int
on_sample_rate(const jack_nframes_t rate, void* const arg)
{
  RtlJack* const j = (RtlJack*)arg;
  const uint32_t old =
    atomic_exchange_explicit(&j->rate, rate, memory_order_relaxed);
  rtl_process_set_sample_rate(j->config.process, rate);
  if (old != rate) {
    rtl_process_expect_jump(j->config.process);
    latency_changed(j, true);
  }
  return 0;
}

static void
on_shutdown(void* const arg)
{
  RtlJack* const j = (RtlJack*)arg;
  atomic_store_explicit(&j->gone, true, memory_order_release);
}

static void
on_info_shutdown(const jack_status_t code,
                 const char* const   reason,
                 void* const         arg)
{
  (void)code;
  (void)reason;
  on_shutdown(arg);
}

/// A connection of one of our ports was made or broken: news for the
/// patchbay, which the control thread reads.
static void
on_port_connect(const jack_port_id_t a,
                const jack_port_id_t b,
                const int            connect,
                void* const          arg)
{
  RtlJack* const       j = (RtlJack*)arg;
  jack_client_t* const c =
    atomic_load_explicit(&j->cb_client, memory_order_acquire);
  jack_port_t* const pa = c ? jack_port_by_id(c, a) : NULL;
  jack_port_t* const pb = c ? jack_port_by_id(c, b) : NULL;
  if (!pa || !pb) {
    return;
  }
  const bool mine_a = jack_port_is_mine(c, pa);
  if (mine_a == (bool)jack_port_is_mine(c, pb)) {
    return; // Not ours, or a loop within ours
  }
  jack_port_t* const ours = mine_a ? pa : pb;
  jack_port_t* const peer = mine_a ? pb : pa;
  rtl_patchbay_on_connect(j->patchbay,
                          jack_port_short_name(ours),
                          jack_port_name(peer),
                          jack_port_flags(ours) & JackPortIsOutput,
                          connect != 0);
  if (j->config.wake) {
    sem_post(j->config.wake);
  }
}

/// A port of another client appeared (a remembered peer may be back) or
/// went away (its connections broke by nobody's choice).
static void
on_port_register(const jack_port_id_t id, const int reg, void* const arg)
{
  RtlJack* const       j = (RtlJack*)arg;
  jack_client_t* const c =
    atomic_load_explicit(&j->cb_client, memory_order_acquire);
  jack_port_t* const port = c ? jack_port_by_id(c, id) : NULL;
  if (port && !jack_port_is_mine(c, port)) {
    rtl_patchbay_on_register(j->patchbay, jack_port_name(port), reg != 0);
    if (j->config.wake) {
      sem_post(j->config.wake);
    }
  }
}

static void
widen(jack_latency_range_t* const        acc,
      jack_port_t* const                 port,
      const jack_latency_callback_mode_t mode)
{
  jack_latency_range_t r;
  jack_port_get_latency_range(port, mode, &r);
  if (r.min < acc->min) {
    acc->min = r.min;
  }
  if (r.max > acc->max) {
    acc->max = r.max;
  }
}

/// The range plus the delay L that this client adds.
static void
settle(jack_latency_range_t* const r, const uint32_t latency)
{
  if (r->min > r->max) {
    r->min = r->max = 0U;
  }
  r->min += latency;
  r->max += latency;
}

/**
   Each output passes on the range of the inputs it is made from, plus L
   (the write-ahead delay, 0 in direct mode), and each input the range of
   the outputs it feeds, plus L: min of the mins and max of the maxes, as
   jack_port_get_latency_range() gives them for our ports from their
   connections.  MIDI is delayed by the same L.  The click is generated
   here in the output timeline, so its capture latency is zero.  Reads L
   without a lock.
*/
static void
declare_latency(RtlJack* const j, const jack_latency_callback_mode_t mode)
{
  const RtlPorts* p = &j->ports;
  const uint32_t  L = rtl_process_latency(j->config.process);
  if (mode == JackCaptureLatency) {
    jack_latency_range_t audio = {UINT32_MAX, 0U};
    for (unsigned i = 0U; i < j->config.inputs; ++i) {
      widen(&audio, p->in[i], mode);
    }
    settle(&audio, L);
    jack_port_set_latency_range(p->out_l, mode, &audio);
    jack_port_set_latency_range(p->out_r, mode, &audio);
    jack_latency_range_t zero = {0U, 0U};
    jack_port_set_latency_range(p->click, mode, &zero);
    jack_latency_range_t midi = {UINT32_MAX, 0U};
    widen(&midi, p->midi_in, mode);
    settle(&midi, L);
    jack_port_set_latency_range(p->midi_out, mode, &midi);
  } else {
    jack_latency_range_t audio = {UINT32_MAX, 0U};
    widen(&audio, p->out_l, mode);
    widen(&audio, p->out_r, mode);
    settle(&audio, L);
    for (unsigned i = 0U; i < j->config.inputs; ++i) {
      jack_port_set_latency_range(p->in[i], mode, &audio);
    }
    jack_latency_range_t midi = {UINT32_MAX, 0U};
    widen(&midi, p->midi_out, mode);
    settle(&midi, L);
    jack_port_set_latency_range(p->midi_in, mode, &midi);
  }
}

/// Both passes, from a non-callback thread (PipeWire only; see on_latency()).
static void
declare_latencies(RtlJack* const j)
{
  declare_latency(j, JackCaptureLatency);
  declare_latency(j, JackPlaybackLatency);
}

/**
   JACK's latency callback, on its notification thread.  On JACK2 the
   ranges are set here, as JACK requires.  On PipeWire's JACK layer they
   are set by the control thread instead (rtl_jack_update_latency()): in
   PipeWire 0.3.65 a jack_port_set_latency_range() from this callback
   runs the client's other queued callbacks inside this one, and when a
   quantum change has queued a buffer-size callback (one per cycle until
   it runs) that nesting locks a lock this callback already holds, and the
   client stops processing for good.  Here it only asks for a declaration.
*/
static void
on_latency(const jack_latency_callback_mode_t mode, void* const arg)
{
  RtlJack* const j = (RtlJack*)arg;
  if (on_pipewire(j)) {
    latency_changed(j, false);
    return;
  }
  declare_latency(j, mode);
}

// --- life cycle --------------------------------------------------------------

RtlStatus
rtl_jack_new(const RtlJackConfig* const config, RtlJack** const jack)
{
  *jack                 = NULL;
  RtlAllocator* const a = config->allocator;
  RtlJack* const      j = (RtlJack*)rtl_calloc(a, 1U, sizeof(RtlJack));
  if (!j) {
    return RTL_NO_MEM;
  }
  j->config = *config;
  j->ports.in =
    (jack_port_t**)rtl_calloc(a, config->inputs, sizeof(jack_port_t*));
  if (!j->ports.in) {
    rtl_free(a, j);
    return RTL_NO_MEM;
  }
  if (rtl_patchbay_new(a, &j->patchbay)) {
    rtl_free(a, j->ports.in);
    rtl_free(a, j);
    return RTL_NO_MEM;
  }
  if (pthread_key_create(&j->reader_key, reader_exit)) {
    rtl_patchbay_free(j->patchbay);
    rtl_free(a, j->ports.in);
    rtl_free(a, j);
    return RTL_SYSTEM_ERROR;
  }
  pthread_mutex_init(&j->lock, NULL);
  snprintf(j->name, sizeof(j->name), "%s", config->name);
  *jack = j;
  return RTL_SUCCESS;
}

void
rtl_jack_free(RtlJack* const j)
{
  if (!j) {
    return;
  }
  rtl_jack_stop(j);
  pthread_key_delete(j->reader_key);
  pthread_mutex_destroy(&j->lock);
  rtl_patchbay_free(j->patchbay);
  rtl_free(j->config.allocator, j->ports.in);
  rtl_free(j->config.allocator, j);
}

static jack_port_t*
reg(jack_client_t* const client,
    const char* const    name,
    const char* const    type,
    const unsigned long  flags)
{
  return jack_port_register(client, name, type, flags, 0U);
}

static void
autoconnect(RtlJack* const j, jack_client_t* const client)
{
  const char** const capture =
    jack_get_ports(client,
                   NULL,
                   JACK_DEFAULT_AUDIO_TYPE,
                   JackPortIsPhysical | JackPortIsOutput);
  const char** const playback =
    jack_get_ports(client,
                   NULL,
                   JACK_DEFAULT_AUDIO_TYPE,
                   JackPortIsPhysical | JackPortIsInput);

  for (unsigned i = 0U; capture && capture[i] && i < j->config.inputs; ++i) {
    if (jack_connect(client, capture[i], jack_port_name(j->ports.in[i]))) {
      rtl_log(
        "cannot connect %s to %s", capture[i], jack_port_name(j->ports.in[i]));
    }
  }
  jack_port_t* const outs[2] = {j->ports.out_l, j->ports.out_r};
  for (unsigned i = 0U; playback && playback[i] && i < 2U; ++i) {
    if (jack_connect(client, jack_port_name(outs[i]), playback[i])) {
      rtl_log("cannot connect %s to %s", jack_port_name(outs[i]), playback[i]);
    }
  }
  if (!capture || !playback) {
    rtl_log("autoconnect: no physical %s ports",
            !capture ? "capture" : "playback");
  }
  jack_free((void*)capture);
  jack_free((void*)playback);
}

/// Open the client, never starting a server.  NULL with the reason in
/// `err` if the server is not there or refuses the name.
static jack_client_t*
open_client(RtlJack* const j, char* const err, const size_t err_size)
{
  // libjack's complaints while connecting are replaced by our own line.
  jack_set_error_function(on_jack_error);
  jack_set_info_function(on_jack_info);
  atomic_store_explicit(&g_quiet, true, memory_order_relaxed);

  const char* const server = j->config.server;
  jack_status_t     status = (jack_status_t)0;
  jack_options_t opts = (jack_options_t)(JackNoStartServer | JackUseExactName);
  jack_client_t* c    = NULL;
  if (server) {
    opts = (jack_options_t)(opts | JackServerName);
    c    = jack_client_open(j->config.name, opts, &status, server);
  } else {
    c = jack_client_open(j->config.name, opts, &status);
  }
  atomic_store_explicit(&g_quiet, false, memory_order_relaxed);
  if (c) {
    return c;
  }
  // With JackUseExactName, JACK2 refuses a taken name as a server error
  // (JackFailure | JackServerError) rather than JackNameNotUnique.
  if (status & (JackNameNotUnique | JackServerError)) {
    snprintf(err,
             err_size,
             "JACK server '%s' refused client name '%s' (already in use?)",
             server ? server : "default",
             j->config.name);
  } else {
    snprintf(err,
             err_size,
             "cannot connect to JACK server '%s' (is it running?)",
             server ? server : "default");
  }
  return NULL;
}

static bool
register_ports(RtlJack* const j, jack_client_t* const c)
{
  const char* const   audio = JACK_DEFAULT_AUDIO_TYPE;
  const char* const   midi  = JACK_DEFAULT_MIDI_TYPE;
  const unsigned long in_f  = JackPortIsInput;
  const unsigned long out_f = JackPortIsOutput;
  RtlPorts* const     p     = &j->ports;
  bool                ok    = true;
  for (unsigned i = 0U; i < j->config.inputs; ++i) {
    char name[16];
    snprintf(name, sizeof(name), "in_%u", i + 1U);
    ok = ok && (p->in[i] = reg(c, name, audio, in_f));
  }
  ok = ok && (p->out_l = reg(c, "out_L", audio, out_f));
  ok = ok && (p->out_r = reg(c, "out_R", audio, out_f));
  ok = ok && (p->click = reg(c, "click", audio, out_f));
  ok = ok && (p->midi_in = reg(c, "midi_in", midi, in_f));
  ok = ok && (p->midi_out = reg(c, "midi_out", midi, out_f));
  return ok;
}

static bool
set_callbacks(RtlJack* const j, jack_client_t* const c)
{
  void* const p = j->config.process;
  if (jack_set_process_callback(c, rtl_process_run, p) ||
      jack_set_thread_init_callback(c, on_thread_init, j) ||
      jack_set_xrun_callback(c, on_xrun, j) ||
      jack_set_buffer_size_callback(c, on_buffer_size, j) ||
      jack_set_sample_rate_callback(c, on_sample_rate, j) ||
      jack_set_latency_callback(c, on_latency, j) ||
      jack_set_port_connect_callback(c, on_port_connect, j) ||
      jack_set_port_registration_callback(c, on_port_register, j)) {
    return false;
  }
  // Both: JACK2 calls only the second when both are set, and PipeWire's
  // JACK layer (0.3.65) only ever calls the first.
  jack_on_shutdown(c, on_shutdown, j);
  jack_on_info_shutdown(c, on_info_shutdown, j);
  return true;
}

/// Close a client that never ran, with `what` as the reason.
static RtlStatus
fail(jack_client_t* const client,
     char* const          err,
     const size_t         err_size,
     const char* const    what)
{
  snprintf(err, err_size, "%s", what);
  jack_client_close(client);
  return RTL_FAILURE;
}

RtlStatus
rtl_jack_start(RtlJack* const j, char* const err, const size_t err_size)
{
  // The client is built and activated without the lock, and published
  // under it only once it runs: queries from the OSC and control threads
  // never wait for a slow server.
  atomic_store_explicit(&j->gone, false, memory_order_release);
  jack_client_t* const c = open_client(j, err, err_size);
  if (!c) {
    return RTL_FAILURE;
  }
  // PipeWire's libjack says so in its version string ("3.0.0.0 (using
  // PipeWire 0.3.65)"); JACK2's is its own number.
  const char* const version = jack_get_version_string();
  atomic_store_explicit(
    &j->pipewire, version && strstr(version, "PipeWire"), memory_order_relaxed);
  if (!register_ports(j, c)) {
    return fail(c, err, err_size, "cannot register JACK ports");
  }
  if (!set_callbacks(j, c)) {
    return fail(c, err, err_size, "cannot install JACK callbacks");
  }

  const jack_nframes_t rate   = jack_get_sample_rate(c);
  const jack_nframes_t period = jack_get_buffer_size(c);
  atomic_store_explicit(&j->rate, rate, memory_order_relaxed);
  atomic_store_explicit(&j->period, period, memory_order_relaxed);
  atomic_store_explicit(&j->latency_dirty, false, memory_order_relaxed);
  atomic_store_explicit(&j->rate_dirty, false, memory_order_relaxed);
  // The engine starts before activation, so that its first input frame is
  // the audio thread's first.
  char why[200];
  if (rtl_process_prepare(j->config.process, rate, period, why, sizeof(why))) {
    return fail(c, err, err_size, why);
  }
  rtl_process_attach(j->config.process, c, &j->ports);
  rtl_patchbay_restart(j->patchbay);
  atomic_store_explicit(&j->cb_client, c, memory_order_release);
  if (jack_activate(c)) {
    atomic_store_explicit(&j->cb_client, NULL, memory_order_release);
    fail(c, err, err_size, "cannot activate the JACK client");
    rtl_process_release(j->config.process);
    return RTL_FAILURE;
  }

  pthread_mutex_lock(&j->lock);
  j->client = c;
  snprintf(j->name, sizeof(j->name), "%s", jack_get_client_name(c));
  pthread_mutex_unlock(&j->lock);

  if (on_pipewire(j)) {
    // Declared before the ready line, not when the control thread first
    // looks (see on_latency())
    declare_latencies(j);
  }
  if (j->config.connect) {
    autoconnect(j, c);
  }
  return RTL_SUCCESS;
}

void
rtl_jack_stop(RtlJack* const j)
{
  pthread_mutex_lock(&j->lock);
  jack_client_t* const c = j->client;
  j->client              = NULL;
  pthread_mutex_unlock(&j->lock);
  if (!c) {
    return;
  }
  const bool gone = atomic_load_explicit(&j->gone, memory_order_acquire);
  if (!gone) {
    jack_deactivate(c);
  }
  atomic_store_explicit(&g_quiet, gone, memory_order_relaxed);
  jack_client_close(c);
  atomic_store_explicit(&j->cb_client, NULL, memory_order_release);
  atomic_store_explicit(&g_quiet, false, memory_order_relaxed);
  rtl_process_release(j->config.process);
}

uint32_t
rtl_jack_rate(const RtlJack* const j)
{
  return atomic_load_explicit(&j->rate, memory_order_relaxed);
}

bool
rtl_jack_rate_changed(RtlJack* const j)
{
  return atomic_exchange_explicit(&j->rate_dirty, false, memory_order_acq_rel);
}

void
rtl_jack_update_latency(RtlJack* const j, const bool force)
{
  const bool dirty =
    atomic_exchange_explicit(&j->latency_dirty, false, memory_order_acq_rel);
  if (!dirty && !force) {
    return;
  }
  pthread_mutex_lock(&j->lock);
  if (j->client && !atomic_load_explicit(&j->gone, memory_order_acquire)) {
    if (on_pipewire(j)) {
      // Set from here (see on_latency()).  PipeWire keeps a set latency as
      // periods plus a remainder and does not run the latency callback on
      // a rate change, so L is converted again and set again; the graph
      // hears of it through the ports' parameters, without a recompute
      // (whose callback would only bring us back here).
      declare_latencies(j);
    } else {
      jack_recompute_total_latencies(j->client);
    }
  }
  pthread_mutex_unlock(&j->lock);
}

bool
rtl_jack_server_gone(const RtlJack* const j)
{
  return atomic_load_explicit(&j->gone, memory_order_acquire);
}

void
rtl_jack_name(RtlJack* const j, char* const name, const size_t size)
{
  pthread_mutex_lock(&j->lock);
  snprintf(name, size, "%s", j->name);
  pthread_mutex_unlock(&j->lock);
}

void
rtl_jack_info(RtlJack* const j, RtlJackInfo* const info)
{
  pthread_mutex_lock(&j->lock);
  info->up = j->client && !atomic_load_explicit(&j->gone, memory_order_acquire);
  info->dsp_load = info->up ? jack_cpu_load(j->client) : 0.0f;
  pthread_mutex_unlock(&j->lock);
  info->rate   = atomic_load_explicit(&j->rate, memory_order_relaxed);
  info->period = atomic_load_explicit(&j->period, memory_order_relaxed);
  info->xruns  = atomic_load_explicit(&j->xruns, memory_order_relaxed);
  if (on_pipewire(j)) {
    // PipeWire's JACK layer reports only what its driver calls an xrun,
    // and the dummy driver never does: the periods the graph ran without
    // us are what a user means by one.
    info->xruns += rtl_process_skipped(j->config.process);
  }
}

bool
rtl_jack_unix_to_frame(RtlJack* const  j,
                       const int64_t   unix_us,
                       uint64_t* const frame,
                       uint64_t* const now)
{
  pthread_mutex_lock(&j->lock);
  jack_client_t* const c = j->client;
  if (!c || atomic_load_explicit(&j->gone, memory_order_acquire)) {
    pthread_mutex_unlock(&j->lock);
    return false;
  }
  // Frames are unwrapped relative to the current one, so that a time
  // before the server started (a past tag on a young server) comes out as
  // a frame in the past rather than wrapping round to the far future.
  const jack_nframes_t now32 = jack_frame_time(c);
  const int64_t now64 = (int64_t)rtl_process_frame64(j->config.process, now32);
  if (frame) {
    // Both clocks read back to back, so the offset between them is as
    // close as this process can know it.
    const jack_time_t jack_now = jack_get_time();
    struct timespec   wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    const int64_t wall_us =
      (int64_t)wall.tv_sec * 1000000LL + wall.tv_nsec / 1000;
    int64_t t_us = (int64_t)jack_now + (unix_us - wall_us);
    if (t_us < 0) {
      t_us = 0;
    }
    int64_t f = 0;
    if (t_us < (int64_t)jack_now) {
      // Placed back from now by the rate: PipeWire's jack_time_to_frames()
      // (0.3.65) wraps a time before the current cycle's start round to
      // the far future.
      const int64_t rate = atomic_load_explicit(&j->rate, memory_order_relaxed);
      f                  = now64 - ((int64_t)jack_now - t_us) * rate / 1000000;
    } else {
      const jack_nframes_t f32 = jack_time_to_frames(c, (jack_time_t)t_us);
      f                        = now64 + (int32_t)(f32 - now32);
    }
    *frame = f > 0 ? (uint64_t)f : 0U;
  }
  if (now) {
    *now = (uint64_t)now64;
  }
  pthread_mutex_unlock(&j->lock);
  return true;
}

// --- connections (control thread) ------------------------------------------

typedef struct {
  RtlJack*       jack;
  jack_client_t* client;
} PatchbayCtx;

static jack_port_t*
our_port(const PatchbayCtx* const x, const char* const ours)
{
  char full[RTL_PORT_NAME_MAX];
  snprintf(full, sizeof(full), "%s:%s", x->jack->name, ours);
  return jack_port_by_name(x->client, full);
}

static bool
pb_exists(void* const data, const char* const port)
{
  const PatchbayCtx* const x = (const PatchbayCtx*)data;
  return jack_port_by_name(x->client, port) != NULL;
}

static bool
pb_connected(void* const data, const char* const ours, const char* const peer)
{
  const PatchbayCtx* const x = (const PatchbayCtx*)data;
  jack_port_t* const       p = our_port(x, ours);
  return p && jack_port_connected_to(p, peer);
}

static bool
pb_connect(void* const       data,
           const char* const ours,
           const char* const peer,
           const bool        out)
{
  const PatchbayCtx* const x = (const PatchbayCtx*)data;
  jack_port_t* const       p = our_port(x, ours);
  if (!p) {
    return false;
  }
  const char* const mine = jack_port_name(p);
  const int         err  = out ? jack_connect(x->client, mine, peer)
                               : jack_connect(x->client, peer, mine);
  if (err) {
    rtl_log("cannot connect %s and %s again", mine, peer);
  }
  return !err;
}

void
rtl_jack_follow_connections(RtlJack* const j, const int64_t now_ns)
{
  pthread_mutex_lock(&j->lock);
  if (j->client && !atomic_load_explicit(&j->gone, memory_order_acquire)) {
    PatchbayCtx          x    = {j, j->client};
    const RtlPatchbayOps ops  = {&x, pb_exists, pb_connected, pb_connect};
    const unsigned       made = rtl_patchbay_follow(j->patchbay, &ops, now_ns);
    if (made) {
      rtl_log("%u connection%s made again", made, made == 1U ? "" : "s");
    }
  }
  pthread_mutex_unlock(&j->lock);
}

unsigned
rtl_jack_connections(RtlJack* const j, unsigned* const made)
{
  pthread_mutex_lock(&j->lock);
  const bool up =
    j->client && !atomic_load_explicit(&j->gone, memory_order_acquire);
  PatchbayCtx          x   = {j, j->client};
  const RtlPatchbayOps ops = {&x, pb_exists, pb_connected, pb_connect};
  const unsigned n = rtl_patchbay_count(j->patchbay, up ? &ops : NULL, made);
  pthread_mutex_unlock(&j->lock);
  return n;
}
