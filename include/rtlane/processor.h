// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_PROCESSOR_H
#define RTLANE_PROCESSOR_H

#include <rtlane/attributes.h>
#include <rtlane/status.h>

#include <stdint.h>

RTL_BEGIN_DECLS

/**
   @file processor.h
   The processing that the write-ahead engine runs on its worker thread,
   and the plug-in ABI that carries it in a shared object
   (`rtlane --insert FILE.so`).

   A processor is a table of three functions.  All three run on the
   engine's worker thread, never on the real-time thread, so they may
   allocate, lock, sleep, log or stall like a garbage collector: the engine
   runs them far enough ahead that the audio thread never notices, as long
   as a stall is shorter than the engine's latency.

   A plug-in is a shared object that exports a function named
   RTL_PROCESSOR_DESCRIPTOR_SYMBOL returning its processor:

       static const RtlProcessor gain = {
         RTL_PROCESSOR_ABI_VERSION, "gain", RTL_PROCESSOR_RT_SAFE,
         gain_init, gain_process, gain_release, NULL,
       };

       RTL_PROCESSOR_EXPORT const RtlProcessor*
       rtl_processor_descriptor(void)
       {
         return &gain;
       }

   The structure layout is the ABI: a host refuses a descriptor whose
   abi_version is not the RTL_PROCESSOR_ABI_VERSION it was built with, and
   any change to these structures comes with a new version.
*/

/// Version of the structures below; a descriptor carries the one it was built
/// with.
#define RTL_PROCESSOR_ABI_VERSION 1U

/// Name of the function a plug-in exports (see RtlProcessorDescriptorFunc).
#define RTL_PROCESSOR_DESCRIPTOR_SYMBOL "rtl_processor_descriptor"

/// Longest MIDI event carried, in bytes: channel messages with room to
/// spare.  Longer events (SysEx) are dropped and counted.
#define RTL_MIDI_EVENT_MAX 16U

/**
   Flag: process() is itself real-time safe (no allocation, lock, sleep or
   system call, bounded time).  A host may then run it directly on the
   audio thread with no write-ahead latency; without it a host must use
   the engine.
*/
#define RTL_PROCESSOR_RT_SAFE (1U << 0U)

/// Mark the descriptor function of a plug-in built with hidden visibility.
#if defined(__GNUC__)
#  define RTL_PROCESSOR_EXPORT __attribute__((visibility("default")))
#else
#  define RTL_PROCESSOR_EXPORT
#endif

/**
   One MIDI event.

   `frame` is the offset within the block it belongs to.  `size` is the
   event's real length: an event longer than RTL_MIDI_EVENT_MAX is passed
   with its true size (and at most RTL_MIDI_EVENT_MAX bytes copied) so that
   the engine can drop it and count it rather than deliver it cut short.
*/
typedef struct {
  uint32_t frame; ///< Offset in the block, in frames
  uint32_t size;  ///< Length in bytes (1..RTL_MIDI_EVENT_MAX)
  uint8_t  data[RTL_MIDI_EVENT_MAX]; ///< The event, status byte first
} RtlMidiEvent;

/// What a processor is told once, before its first block.
typedef struct {
  double   sample_rate; ///< Frames per second
  uint32_t max_block;   ///< Most frames process() is ever given at once
  uint32_t n_inputs;    ///< Audio input planes (may be 0)
  uint32_t n_outputs;   ///< Audio output planes (at least 1)
} RtlProcessorConfig;

/**
   A processor: audio and MIDI in, audio out, in blocks.

   All functions run on the engine's worker thread, one at a time, in the
   order init, process..., release.
*/
typedef struct {
  /// RTL_PROCESSOR_ABI_VERSION of the header the processor was built with.
  uint32_t abi_version;

  /// Short name for messages and the daemon's status (may be NULL).
  const char* name;

  /// RTL_PROCESSOR_* flags.
  uint32_t flags;

  /**
     Create the processor's state for `config`; `user_data` is the field
     below.  Returns the state handed to process() and release(), or NULL
     on failure (rtl_engine_start() then fails).  May be NULL, in which
     case the state is `user_data` itself.
  */
  void* (*init)(const RtlProcessorConfig* config, void* user_data);

  /**
     Process `n_frames` (1..max_block) frames: read `in` (n_inputs planes),
     write every frame of `out` (n_outputs planes; not cleared before the
     call).  `events` holds `n_events` MIDI events in time order, each
     with its offset into this block.  Required.
  */
  void (*process)(void*               self,
                  const float* const* in,
                  float* const*       out,
                  const RtlMidiEvent* events,
                  uint32_t            n_events,
                  uint32_t            n_frames);

  /// Free the state from init().  May be NULL.
  void (*release)(void* self);

  /// Passed to init().
  void* user_data;
} RtlProcessor;

/// The type of the function a plug-in exports as
/// RTL_PROCESSOR_DESCRIPTOR_SYMBOL.
typedef const RtlProcessor* (*RtlProcessorDescriptorFunc)(void);

/**
   Check that `processor` can be run: RTL_UNSUPPORTED if it was built for
   another ABI version, RTL_BAD_ARG if it is NULL or has no process().

   Any thread.  rtl_engine_new() and rtl_processor_load() both call it.
*/
RTL_API RtlStatus
rtl_processor_check(const RtlProcessor* processor);

/**
   Create the state of `processor` for `config`: its init() with its
   user_data, or the user_data itself if it has no init().  RTL_FAILURE,
   with `*self` NULL, if init() refused.

   Non-RT: on the thread that will run process(), before it does (the
   engine's worker, or an application's own audio set-up).  Every host of
   a processor starts it this way, so none has its own idea of what a
   missing init() means.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_processor_init(const RtlProcessor*       processor,
                   const RtlProcessorConfig* config,
                   void**                    self);

/**
   Free the state rtl_processor_init() made, with the processor's
   release() if it has one.  Non-RT, on the same thread, after the last
   process().
*/
RTL_API void
rtl_processor_release(const RtlProcessor* processor, void* self);

/**
   Load the plug-in at `path` and return its processor.

   Non-RT thread (opens a file, runs the object's constructors).  `path` is
   a file name as dlopen() takes it: with a slash it is used as is,
   without one it is looked up on the library search path.  Status:
   RTL_NOT_FOUND if the object cannot be loaded or does not export
   RTL_PROCESSOR_DESCRIPTOR_SYMBOL, RTL_UNSUPPORTED for another ABI
   version, RTL_BAD_ARG if the descriptor is unusable (see
   rtl_processor_check()).  On failure `*processor` and `*handle` are NULL
   and nothing stays loaded; rtl_processor_load_error() says why.

   The processor lives as long as the object: pass `*handle` to
   rtl_processor_unload() only after every engine running it is freed.
*/
RTL_API RTL_NODISCARD RtlStatus
rtl_processor_load(const char*          path,
                   const RtlProcessor** processor,
                   void**               handle);

/// Unload a plug-in loaded by rtl_processor_load().  Non-RT; NULL is ignored.
RTL_API void
rtl_processor_unload(void* handle);

/**
   Why the calling thread's last rtl_processor_load() failed, in words
   (the loader's message where there is one), or "" after a success.

   Non-RT thread; the string stays valid until that thread's next load.
*/
RTL_API const char*
rtl_processor_load_error(void);

RTL_END_DECLS

#endif // RTLANE_PROCESSOR_H
