// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_MIXER_H
#define RTL_DAEMON_MIXER_H

/*
  The mixer: N mono channels with gain, constant-power pan, mute and solo
  summed to a stereo pair with a master gain, and the transport's click.

  It runs on exactly one thread at a time: the JACK process thread in
  direct mode, the write-ahead engine's worker in write-ahead mode.  It is
  RT-safe either way (no allocation, lock, system call or unbounded loop)
  and is driven the same way in both: a block of input, the changes that
  fall in the block ("cues", each with its frame offset) and the block's
  MIDI.  A MIDI control change mapped with /midi/map moves its parameter at
  the frame it arrived on, and the mixer reports the new value to the
  control thread through its report ring, so /get and /state follow it.

  Who makes the cues: the process thread, from the state snapshot (changed
  slots and CC map entries, then the snapshot's sequence number) and from
  the timed events the control thread hands it.  In direct mode it passes
  them straight to rtl_mixer_run(); in write-ahead mode they travel to the
  worker through an SPSC ring, stamped with the input frame they belong to.
*/

#include "comm.h"
#include "state.h"

#include <rtlane/allocator.h>
#include <rtlane/attributes.h>
#include <rtlane/msgring.h>
#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <stdint.h>

/// Gain and pan ramps last this long, so no change is a step.
#define RTL_RAMP_MS 5U

/// Click: a decaying 1 kHz cosine burst.
#define RTL_CLICK_HZ 1000.0
#define RTL_CLICK_MS 10U
#define RTL_CLICK_DOWNBEAT 1.0f
#define RTL_CLICK_BEAT 0.5f
#define RTL_BEATS_PER_BAR 4U
#define RTL_CLICK_MAX_RATE 384000U

typedef struct RtlMixerImpl RtlMixer;

/**
   Create a mixer for `table`, at its defaults, with its report ring.
   Non-RT (allocates from `allocator` and prefaults).
*/
RtlStatus
rtl_mixer_new(RtlAllocator*        allocator,
              const RtlParamTable* table,
              RtlMixer**           mixer);

/// Free `mixer`; NULL is ignored.  Non-RT, once no thread runs it.
void
rtl_mixer_free(RtlMixer* mixer);

/**
   Follow a new sample rate: ramps, tempo and the click are in frames.
   Any non-RT thread; the mixer's thread picks it up at its next block.
*/
void
rtl_mixer_set_sample_rate(RtlMixer* mixer, uint32_t rate);

/**
   Back to the table's defaults with no transport running and every serial
   and CC mapping cleared.  The mixer's thread, or any thread while none
   runs it.  RT-safe.
*/
RTL_REALTIME void
rtl_mixer_reset(RtlMixer* mixer);

/**
   Render one block of `n` frames: `in` (one plane per input), `out_l`,
   `out_r` and `click` (written whole).  `cues` (sorted by pos, offsets
   into the block) and `midi` (sorted by frame) take effect at their
   frames; on equal frames cues come first.  The mixer's thread, RT-safe.
*/
RTL_REALTIME void
rtl_mixer_run(RtlMixer*           mixer,
              const float* const* in,
              float*              out_l,
              float*              out_r,
              float*              click,
              uint32_t            n,
              const RtlCue*       cues,
              uint32_t            n_cues,
              const RtlMidiEvent* midi,
              uint32_t            n_midi);

/// Sequence of the last SEQ cue run.  Any thread.
uint64_t
rtl_mixer_adopted_seq(const RtlMixer* mixer);

/// The mixer -> control ring of parameters moved by MIDI CCs.
RtlMsgRing*
rtl_mixer_reports(RtlMixer* mixer);

/// Reports dropped because that ring was full.  Any thread.
uint64_t
rtl_mixer_report_drops(const RtlMixer* mixer);

#endif // RTL_DAEMON_MIXER_H
