// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_DAEMON_STATE_H
#define RTL_DAEMON_STATE_H

/*
  The parameter model.

  One table describes every settable address (path, OSC type tag, range,
  default, description).  It is built once at start-up for N inputs and is
  read-only afterwards, so the OSC threads validate against it and the
  control thread answers /list, /get and /state from it without locking.

  The control thread owns an RtlModel (current values and the MIDI CC
  map) and publishes immutable RtlStateSnapshot copies through
  rtl_snapshot_publish().  Every slot carries a serial that changes
  whenever that parameter is set: the real-time thread compares serials and
  adopts only what changed, so a sample-accurate timed change (or a MIDI
  CC) that the mixer already made is never undone by a later snapshot about
  something else.
*/

#include <rtlane/allocator.h>
#include <rtlane/status.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// What a parameter controls.  Channel kinds come first, in index order.
typedef enum {
  RTL_PARAM_CH_GAIN = 0,
  RTL_PARAM_CH_PAN,
  RTL_PARAM_CH_MUTE,
  RTL_PARAM_CH_SOLO,
  RTL_PARAM_MASTER_GAIN,
  RTL_PARAM_BPM,
} RtlParamKind;

/*
  The model's limits.  Messages, --help and /list quote these constants,
  never copies of their values; the ones that appear in static text are
  plain integers so that RTL_STR() can spell them.
*/
#define RTL_STR_(x) #x
#define RTL_STR(x) RTL_STR_(x)

#define RTL_MAX_INPUTS 64U ///< Mono input channels, 1..this
#define RTL_PARAMS_PER_CHANNEL 4U
#define RTL_GAIN_MIN_DB (-90.0f) ///< Silence
#define RTL_GAIN_MAX_DB 12.0f
#define RTL_BPM_MIN 20.0f
#define RTL_BPM_MAX 300.0f
#define RTL_PATH_MAX_LEN 255 ///< Longest path or string argument
#define RTL_PATH_MAX (RTL_PATH_MAX_LEN + 1U)

/// Longest write-ahead delay in ms (-l, /latency/set), and its range.
#define RTL_LATENCY_MAX_MS 2000
#define RTL_LATENCY_RANGE "0 < ms <= " RTL_STR(RTL_LATENCY_MAX_MS)

/// /subscribe meters rates in Hz.
#define RTL_METER_HZ_MIN 1
#define RTL_METER_HZ_MAX 100
#define RTL_METER_HZ_DEFAULT 30

/// MIDI controller numbers 0..RTL_MIDI_CC_MAX that /midi/map can map.
#define RTL_MIDI_CC_MAX 127
#define RTL_MIDI_CCS (RTL_MIDI_CC_MAX + 1U)

typedef struct {
  char         path[24]; ///< e.g. "/ch/12/gain"
  char         type;     ///< 'f' or 'i'
  RtlParamKind kind;
  uint16_t     channel; ///< 0-based, channel kinds only
  float        min;
  float        max;
  float        def;
  char         description[96];
} RtlParamInfo;

typedef struct {
  RtlAllocator* allocator;
  unsigned      n_inputs;
  unsigned      n_params;
  RtlParamInfo* params;
} RtlParamTable;

/// Index of a channel parameter (channel is 0-based).
static inline unsigned
rtl_param_channel_index(const unsigned channel, const RtlParamKind kind)
{
  return channel * RTL_PARAMS_PER_CHANNEL + (unsigned)kind;
}

/// Index of the master gain and of the tempo.
static inline unsigned
rtl_param_master_gain_index(const RtlParamTable* const table)
{
  return table->n_inputs * RTL_PARAMS_PER_CHANNEL;
}

static inline unsigned
rtl_param_bpm_index(const RtlParamTable* const table)
{
  return table->n_inputs * RTL_PARAMS_PER_CHANNEL + 1U;
}

/**
   Build the table for `n_inputs` channels (1..RTL_MAX_INPUTS).  Start-up
   only (allocates from `allocator`, NULL for the system's).
*/
RtlStatus
rtl_param_table_init(RtlAllocator*  allocator,
                     RtlParamTable* table,
                     unsigned       n_inputs);

/// Free what the table holds; a zeroed or destroyed table is fine.
void
rtl_param_table_destroy(RtlParamTable* table);

/// Outcome of looking a path up.
typedef enum {
  RTL_LOOKUP_FOUND,
  RTL_LOOKUP_UNKNOWN,         ///< Not a parameter address
  RTL_LOOKUP_UNKNOWN_CHANNEL, ///< /ch/N/... with N outside 1..inputs
} RtlLookup;

/// Find `path`; on success `*index` is its parameter index.  Any thread.
RtlLookup
rtl_param_lookup(const RtlParamTable* table, const char* path, unsigned* index);

/// NULL if `value` is acceptable for parameter `index`, else the reason.
const char*
rtl_param_check(const RtlParamTable* table, unsigned index, float value);

// --- snapshot -------------------------------------------------------------

/// The value came by a timed event or a MIDI CC the mixer has already
/// applied: adopting the slot only takes its serial.
#define RTL_SLOT_TIMED 1U

typedef struct {
  float    value;
  uint32_t serial;
  uint32_t flags;
} RtlSlot;

/// What the RT thread reads.  Immutable once published.
typedef struct {
  uint64_t seq; ///< Increases with every publication
  uint32_t n_params;
  uint32_t reserved;
  /// Parameter index + 1 that each MIDI CC drives, 0 for none
  uint16_t ccmap[RTL_MIDI_CCS];
  RtlSlot  slots[];
} RtlStateSnapshot;

// --- model (control thread) -----------------------------------------------

typedef struct {
  RtlAllocator*        allocator; ///< Of the slots and the snapshots
  const RtlParamTable* table;
  uint64_t             seq;   ///< Sequence of the last snapshot built
  RtlSlot*             slots; ///< Current values
  /// Per parameter: serial of the last setting the mixer applies when it
  /// adopts it (not timed), which no MIDI CC before it may undo
  uint32_t* settled;
  uint16_t  ccmap[RTL_MIDI_CCS]; ///< As in RtlStateSnapshot
} RtlModel;

/**
   Set up `model` at the table's defaults, allocating its slots and later
   its snapshots from `allocator` (NULL for the system's).  Control thread.
*/
RtlStatus
rtl_model_init(RtlAllocator*        allocator,
               RtlModel*            model,
               const RtlParamTable* table);

void
rtl_model_destroy(RtlModel* model);

/// Set parameter `index`.  `timed`: the RT thread applied it already.
void
rtl_model_set(RtlModel* model, unsigned index, float value, bool timed);

/**
   Take the value a MIDI CC gave parameter `index` in the mixer, whose own
   serial for it was `mixer_serial` then.  The value is taken (as timed:
   the mixer has it already) unless the mixer had not yet adopted the
   latest untimed setting, which is then on its way and wins there too.
   Reports based on earlier reports are taken: the mixer may adopt those
   after further CCs, in any order.  Returns true if taken.
*/
bool
rtl_model_take_report(RtlModel* model,
                      unsigned  index,
                      float     value,
                      uint32_t  mixer_serial);

/// Map MIDI CC `cc` to parameter `index`, or unmap it with UINT32_MAX.
void
rtl_model_map_cc(RtlModel* model, unsigned cc, uint32_t index);

/**
   A snapshot of the current values with the next sequence number, or NULL
   (allocated from the model's allocator; rtl_state_snapshot_free() frees
   it with that allocator as `user_data`).
*/
RtlStateSnapshot*
rtl_model_snapshot(RtlModel* model);

/// Frees a snapshot (an RtlSnapshotFreeFunc; `user_data` is the allocator).
void
rtl_state_snapshot_free(void* state, void* user_data);

#endif // RTL_DAEMON_STATE_H
