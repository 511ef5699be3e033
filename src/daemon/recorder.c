// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "recorder.h"

#include "confine.h"
#include "thread.h"

#include <rtlane/allocator.h>

#include <sndfile.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/// Frames per read from the ring and per write to the file.
#define RTL_REC_CHUNK 4096U

/// How long the thread sleeps when the ring has nothing new.
#define RTL_REC_POLL_NS 10000000L

/// Dropouts waiting for the control thread.
#define RTL_REC_DROPOUT_SLOTS 64U

/// The header is brought up to date this often (frames), so that even a
/// crash leaves a file whose header covers most of what was written.
#define RTL_REC_HEADER_SECONDS 1U

struct RtlRecorderImpl {
  RtlRecorderConfig   config;
  char                file[RTL_PATH_MAX + 8U];
  SNDFILE*            sf;
  bool                flac;
  unsigned            channels;
  RtlBroadcastReader* reader;
  RtlMsgRing*         dropouts;
  float*              buf;     ///< RTL_REC_CHUNK frames
  float*              silence; ///< RTL_REC_CHUNK frames of zeros
  pthread_t           thread;
  bool                thread_started;

  // Written by the take's thread, read by the control thread
  _Atomic uint32_t state;
  _Atomic uint64_t start_frame;
  _Atomic uint64_t frames;
  _Atomic uint64_t lost;
  _Atomic bool     stop_now;
  char             error[96]; ///< Set before state becomes FAILED

  // The take's thread only
  bool     started;
  uint64_t start_pos;
  bool     stopping;
  uint64_t stop_pos;
  uint64_t next_header;
  bool     stalled;
};

// --- the file ----------------------------------------------------------------

/// The container for `name`'s extension (".wav" is added when it has none).
static const char*
container(const char* const name, int* const major, bool* const add_wav)
{
  const char* const slash = strrchr(name, '/');
  const char* const dot   = strrchr(slash ? slash + 1 : name, '.');
  *add_wav                = !dot;
  if (!dot || !strcasecmp(dot, ".wav")) {
    // RF64 that stays a plain WAV file until it outgrows 4 GiB
    *major = SF_FORMAT_RF64;
  } else if (!strcasecmp(dot, ".flac")) {
    *major = SF_FORMAT_FLAC;
  } else if (!strcasecmp(dot, ".w64")) {
    *major = SF_FORMAT_W64;
  } else if (!strcasecmp(dot, ".rf64")) {
    *major = SF_FORMAT_RF64;
  } else {
    return "unknown file type (.wav, .flac, .w64 or .rf64)";
  }
  return NULL;
}

static RtlStatus
open_file(RtlRecorder* const r, char* const err, const size_t err_size)
{
  const RtlRecorderConfig* const cfg   = &r->config;
  int                            major = 0;
  bool                           add   = false;
  const char*                    why   = rtl_confine_check(cfg->name);
  if (!why) {
    why = container(cfg->name, &major, &add);
  }
  if (why) {
    snprintf(err, err_size, "%s", why);
    return RTL_BAD_ARG;
  }
  snprintf(r->file, sizeof(r->file), "%s%s", cfg->name, add ? ".wav" : "");

  int sub = SF_FORMAT_FLOAT;
  if (cfg->format == RTL_SAMPLE_16) {
    sub = SF_FORMAT_PCM_16;
  } else if (cfg->format == RTL_SAMPLE_24 || major == SF_FORMAT_FLAC) {
    sub = SF_FORMAT_PCM_24;
  }
  SF_INFO info;
  memset(&info, 0, sizeof(info));
  info.samplerate = (int)cfg->rate;
  info.channels   = (int)r->channels;
  info.format     = major | sub;
  if (!sf_format_check(&info)) {
    snprintf(err,
             err_size,
             major == SF_FORMAT_FLAC && r->channels > 8U
               ? "FLAC holds at most 8 channels"
               : "this file type cannot hold this recording");
    return RTL_BAD_ARG;
  }

  const int fd =
    rtl_confine_open(cfg->dir_fd, r->file, O_WRONLY | O_CREAT | O_EXCL, 0644U);
  if (fd < 0) {
    const int e = errno;
    snprintf(err,
             err_size,
             "%s",
             e == ENOENT ? "no such directory" : rtl_confine_error(e));
    return e == EEXIST || e == EXDEV || e == ELOOP ? RTL_BAD_ARG : RTL_FAILURE;
  }
  r->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
  if (!r->sf) {
    snprintf(err, err_size, "%s", sf_strerror(NULL));
    close(fd);
    (void)unlinkat(cfg->dir_fd, r->file, 0);
    return RTL_FAILURE;
  }
  r->flac = major == SF_FORMAT_FLAC;
  // Out-of-range samples clip rather than wrap in integer formats
  (void)sf_command(r->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
  if (major == SF_FORMAT_RF64 && !strcasecmp(strrchr(r->file, '.'), ".wav")) {
    (void)sf_command(r->sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
  }
  return RTL_SUCCESS;
}

// --- the take's thread ------------------------------------------------------

static void
fail(RtlRecorder* const r, const char* const why)
{
  snprintf(r->error, sizeof(r->error), "%s", why);
  atomic_store_explicit(&r->state, RTL_TAKE_FAILED, memory_order_release);
}

/// Append `n` frames (NULL: silence).  False after a write error.
static bool
append(RtlRecorder* const r, const float* const frames, const uint64_t n)
{
  uint64_t done = 0U;
  while (done < n) {
    const uint64_t     k = n - done < RTL_REC_CHUNK ? n - done : RTL_REC_CHUNK;
    const float* const src = frames ? frames + done * r->channels : r->silence;
    errno                  = 0;
    const sf_count_t w     = sf_writef_float(r->sf, src, (sf_count_t)k);
    if (w > 0) {
      atomic_fetch_add_explicit(&r->frames, (uint64_t)w, memory_order_relaxed);
    }
    if (w != (sf_count_t)k) {
      const int e = errno;
      fail(r,
           e == ENOSPC || e == EDQUOT ? "no space left on the record device"
           : e == EFBIG               ? "file too large"
           : e                        ? strerror(e)
                                      : sf_strerror(r->sf));
      return false;
    }
    done += k;
  }
  const uint64_t written =
    atomic_load_explicit(&r->frames, memory_order_relaxed);
  if (!r->flac && written >= r->next_header) {
    r->next_header =
      written + (uint64_t)r->config.rate * RTL_REC_HEADER_SECONDS;
    (void)sf_command(r->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
  }
  return true;
}

/// Fill `n` lost frames with silence at take position `at`, and say so.
static bool
lose(RtlRecorder* const r, const uint64_t at, const uint64_t n)
{
  atomic_fetch_add_explicit(&r->lost, n, memory_order_relaxed);
  const RtlDropout d = {at, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n, 0U};
  // A full ring still leaves the total in /record/stopped
  (void)rtl_comm_send_dropout(r->dropouts, &d);
  sem_post(r->config.wake);
  return append(r, NULL, n);
}

/// Where the marks put the take, read after the audio (see RtlTakeMarks).
static void
read_marks(RtlRecorder* const r)
{
  const RtlTakeMarks* const m = r->config.marks;
  if (!r->started && atomic_load_explicit(&m->start_id, memory_order_acquire) ==
                       r->config.id) {
    r->start_pos = atomic_load_explicit(&m->start_pos, memory_order_relaxed);
    atomic_store_explicit(
      &r->start_frame,
      atomic_load_explicit(&m->start_frame, memory_order_relaxed),
      memory_order_relaxed);
    r->started = true;
    atomic_store_explicit(&r->state, RTL_TAKE_RECORDING, memory_order_release);
    sem_post(r->config.wake);
  }
  if (!r->stopping &&
      atomic_load_explicit(&m->stop_id, memory_order_acquire) == r->config.id) {
    r->stop_pos = atomic_load_explicit(&m->stop_pos, memory_order_relaxed);
    r->stopping = true;
  }
}

/**
   Take the part of [from, from + n) that belongs in the file: `frames`
   (NULL for a gap of lost frames).  False after a write error.
*/
static bool
take_span(RtlRecorder* const r,
          const uint64_t     from,
          const uint64_t     n,
          const float* const frames)
{
  if (!r->started) {
    return true;
  }
  uint64_t lo = from > r->start_pos ? from : r->start_pos;
  uint64_t hi = from + n;
  if (r->stopping && hi > r->stop_pos) {
    hi = r->stop_pos;
  }
  if (hi <= lo) {
    return true;
  }
  return frames ? append(r, frames + (lo - from) * r->channels, hi - lo)
                : lose(r, lo - r->start_pos, hi - lo);
}

static void
sleep_ns(const long ns)
{
  const struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  nanosleep(&ts, NULL);
}

/// The test hook: one long stall, as a slow disk would cause.
static void
maybe_stall(RtlRecorder* const r)
{
  if (r->config.stall_ms && !r->stalled &&
      atomic_load_explicit(&r->frames, memory_order_relaxed) >=
        r->config.stall_after) {
    r->stalled = true;
    sleep_ns((long)r->config.stall_ms * 1000000L);
  }
}

/// True once the take has everything it will get.
static bool
complete(RtlRecorder* const r, const bool stop_now)
{
  const uint64_t pos = rtl_broadcast_reader_position(r->reader);
  if (r->stopping && (!r->started || pos >= r->stop_pos)) {
    return true;
  }
  // Told to stop now: whatever the ring held when told is all there is
  return stop_now && !rtl_broadcast_reader_available(r->reader);
}

static void*
recorder_thread(void* const arg)
{
  RtlRecorder* const r  = (RtlRecorder*)arg;
  bool               ok = true;
  for (;;) {
    const bool stop_now =
      atomic_load_explicit(&r->stop_now, memory_order_acquire);
    const uint64_t before = rtl_broadcast_reader_position(r->reader);
    uint64_t       lost   = 0U;
    const size_t   n =
      rtl_broadcast_read(r->reader, r->buf, RTL_REC_CHUNK, &lost);
    // After the audio: a mark of a period read is visible now
    read_marks(r);
    if (lost) {
      ok = take_span(r, before, lost, NULL);
    }
    if (ok && n) {
      ok = take_span(r, before + lost, n, r->buf);
    }
    if (!ok || complete(r, stop_now)) {
      break;
    }
    if (!n && !lost) {
      sleep_ns(RTL_REC_POLL_NS);
    }
    maybe_stall(r);
  }

  if (!ok) {
    // Cut back to the last whole frame, so the header and the data agree
    sf_count_t whole =
      (sf_count_t)atomic_load_explicit(&r->frames, memory_order_relaxed);
    (void)sf_command(r->sf, SFC_FILE_TRUNCATE, &whole, sizeof(whole));
  }
  sf_close(r->sf);
  r->sf = NULL;
  if (ok) {
    atomic_store_explicit(&r->state, RTL_TAKE_DONE, memory_order_release);
  }
  sem_post(r->config.wake);
  return NULL;
}

// --- control thread ----------------------------------------------------------

RtlStatus
rtl_recorder_new(const RtlRecorderConfig* const config,
                 RtlRecorder** const            recorder,
                 char* const                    err,
                 size_t const                   err_size)
{
  *recorder             = NULL;
  RtlAllocator* const a = config->allocator;
  RtlRecorder* const  r = (RtlRecorder*)rtl_calloc(a, 1U, sizeof(RtlRecorder));
  if (!r) {
    snprintf(err, err_size, "out of memory");
    return RTL_NO_MEM;
  }
  r->config       = *config;
  r->channels     = rtl_broadcast_channels(config->ring);
  r->next_header  = (uint64_t)config->rate * RTL_REC_HEADER_SECONDS;
  const size_t sz = (size_t)RTL_REC_CHUNK * r->channels * sizeof(float);
  r->buf          = (float*)rtl_calloc(a, 1U, sz);
  r->silence      = (float*)rtl_calloc(a, 1U, sz);
  RtlStatus st    = r->buf && r->silence ? RTL_SUCCESS : RTL_NO_MEM;
  if (!st) {
    st = rtl_comm_ring_new(
      a, RTL_COMM_DROPOUT, RTL_REC_DROPOUT_SLOTS, &r->dropouts);
  }
  if (!st) {
    st = rtl_broadcast_reader_new(config->ring, a, &r->reader);
  }
  if (st) {
    snprintf(err, err_size, "out of memory");
    rtl_recorder_free(r, false);
    return st;
  }
  r->config.name = config->name;
  st             = open_file(r, err, err_size);
  r->config.name = r->file;
  if (st) {
    rtl_recorder_free(r, false);
    return st;
  }
  if ((st =
         rtl_thread_start(&r->thread, "rtlane-record", recorder_thread, r))) {
    snprintf(err, err_size, "cannot start the recorder thread");
    rtl_recorder_free(r, true);
    return st;
  }
  r->thread_started = true;
  *recorder         = r;
  return RTL_SUCCESS;
}

void
rtl_recorder_stop_now(RtlRecorder* const r)
{
  atomic_store_explicit(&r->stop_now, true, memory_order_release);
}

void
rtl_recorder_join(RtlRecorder* const r)
{
  if (r->thread_started) {
    pthread_join(r->thread, NULL);
    r->thread_started = false;
  }
}

void
rtl_recorder_info(const RtlRecorder* const r, RtlTakeInfo* const info)
{
  info->state =
    (RtlTakeState)atomic_load_explicit(&r->state, memory_order_acquire);
  info->start_frame =
    atomic_load_explicit(&r->start_frame, memory_order_relaxed);
  info->frames = atomic_load_explicit(&r->frames, memory_order_relaxed);
  info->lost   = atomic_load_explicit(&r->lost, memory_order_relaxed);
  info->error  = info->state == RTL_TAKE_FAILED ? r->error : NULL;
}

const char*
rtl_recorder_file(const RtlRecorder* const r)
{
  return r->file;
}

RtlMsgRing*
rtl_recorder_dropouts(RtlRecorder* const r)
{
  return r->dropouts;
}

void
rtl_recorder_free(RtlRecorder* const r, const bool discard)
{
  if (!r) {
    return;
  }
  rtl_recorder_stop_now(r);
  rtl_recorder_join(r);
  if (r->sf) {
    sf_close(r->sf);
  }
  if (discard && r->file[0]) {
    (void)unlinkat(r->config.dir_fd, r->file, 0);
  }
  RtlAllocator* const a = r->config.allocator;
  rtl_broadcast_reader_free(r->reader);
  rtl_msgring_free(r->dropouts);
  rtl_free(a, r->buf);
  rtl_free(a, r->silence);
  rtl_free(a, r);
}
