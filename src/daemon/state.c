// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "state.h"

#include <rtlane/allocator.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

/// The parameters of every channel, in RtlParamKind order.
static const struct {
  const char* suffix;
  char        type;
  float       min;
  float       max;
  float       def;
} channel_params[RTL_PARAMS_PER_CHANNEL] = {
  {"gain", 'f', RTL_GAIN_MIN_DB, RTL_GAIN_MAX_DB, 0.0f},
  {"pan", 'f', -1.0f, 1.0f, 0.0f},
  {"mute", 'i', 0.0f, 1.0f, 0.0f},
  {"solo", 'i', 0.0f, 1.0f, 0.0f},
};

static void
describe(RtlParamInfo* const p)
{
  char* const  d = p->description;
  const size_t n = sizeof(p->description);
  switch (p->kind) {
  case RTL_PARAM_CH_GAIN:
  case RTL_PARAM_MASTER_GAIN:
    snprintf(d,
             n,
             "%s gain in dB, %g..%g (%g is silence), smoothed",
             p->kind == RTL_PARAM_CH_GAIN ? "channel" : "master",
             (double)p->min,
             (double)p->max,
             (double)p->min);
    return;
  case RTL_PARAM_CH_PAN:
    snprintf(d,
             n,
             "channel pan, %g (left)..%g (right), constant power",
             (double)p->min,
             (double)p->max);
    return;
  case RTL_PARAM_CH_MUTE:
    snprintf(d, n, "channel mute, 0 or 1");
    return;
  case RTL_PARAM_CH_SOLO:
    snprintf(d,
             n,
             "channel solo, 0 or 1; while any channel is soloed only "
             "soloed channels are heard");
    return;
  case RTL_PARAM_BPM:
    snprintf(d,
             n,
             "metronome tempo in beats per minute, %g..%g",
             (double)p->min,
             (double)p->max);
    return;
  }
}

static void
set_info(RtlParamInfo* const p,
         const char* const   path,
         const char          type,
         const RtlParamKind  kind,
         const float         min,
         const float         max,
         const float         def)
{
  snprintf(p->path, sizeof(p->path), "%s", path);
  p->type = type;
  p->kind = kind;
  p->min  = min;
  p->max  = max;
  p->def  = def;
  describe(p);
}

RtlStatus
rtl_param_table_init(RtlAllocator* const  allocator,
                     RtlParamTable* const table,
                     const unsigned       n_inputs)
{
  const unsigned n = n_inputs * RTL_PARAMS_PER_CHANNEL + 2U;
  memset(table, 0, sizeof(*table));
  if (!n_inputs || n_inputs > RTL_MAX_INPUTS) {
    return RTL_BAD_ARG;
  }
  table->params = (RtlParamInfo*)rtl_calloc(allocator, n, sizeof(RtlParamInfo));
  if (!table->params) {
    return RTL_NO_MEM;
  }
  table->allocator = allocator;
  table->n_inputs  = n_inputs;
  table->n_params  = n;

  for (unsigned c = 0U; c < n_inputs; ++c) {
    for (unsigned k = 0U; k < RTL_PARAMS_PER_CHANNEL; ++k) {
      RtlParamInfo* const p =
        &table->params[rtl_param_channel_index(c, (RtlParamKind)k)];
      char path[sizeof(p->path)];
      snprintf(
        path, sizeof(path), "/ch/%u/%s", c + 1U, channel_params[k].suffix);
      set_info(p,
               path,
               channel_params[k].type,
               (RtlParamKind)k,
               channel_params[k].min,
               channel_params[k].max,
               channel_params[k].def);
      p->channel = (uint16_t)c;
    }
  }
  set_info(&table->params[rtl_param_master_gain_index(table)],
           "/master/gain",
           'f',
           RTL_PARAM_MASTER_GAIN,
           RTL_GAIN_MIN_DB,
           RTL_GAIN_MAX_DB,
           0.0f);
  set_info(&table->params[rtl_param_bpm_index(table)],
           "/transport/bpm",
           'f',
           RTL_PARAM_BPM,
           RTL_BPM_MIN,
           RTL_BPM_MAX,
           120.0f);
  return RTL_SUCCESS;
}

void
rtl_param_table_destroy(RtlParamTable* const table)
{
  rtl_free(table->allocator, table->params);
  table->params   = NULL;
  table->n_params = 0U;
}

RtlLookup
rtl_param_lookup(const RtlParamTable* const table,
                 const char* const          path,
                 unsigned* const            index)
{
  if (!strncmp(path, "/ch/", 4U)) {
    // Strict decimal without leading zeros, so each parameter has exactly
    // one spelling (what /list shows).
    const char* p = path + 4;
    if (*p < '1' || *p > '9') {
      return (*p == '0') ? RTL_LOOKUP_UNKNOWN_CHANNEL : RTL_LOOKUP_UNKNOWN;
    }
    unsigned long channel = 0U;
    while (*p >= '0' && *p <= '9') {
      channel = channel * 10U + (unsigned long)(*p - '0');
      if (channel > 100000U) {
        channel = 100000U;
      }
      ++p;
    }
    if (*p != '/') {
      return RTL_LOOKUP_UNKNOWN;
    }
    ++p;
    for (unsigned k = 0U; k < RTL_PARAMS_PER_CHANNEL; ++k) {
      if (!strcmp(p, channel_params[k].suffix)) {
        if (channel > table->n_inputs) {
          return RTL_LOOKUP_UNKNOWN_CHANNEL;
        }
        *index =
          rtl_param_channel_index((unsigned)channel - 1U, (RtlParamKind)k);
        return RTL_LOOKUP_FOUND;
      }
    }
    return RTL_LOOKUP_UNKNOWN;
  }

  for (unsigned i = table->n_inputs * RTL_PARAMS_PER_CHANNEL;
       i < table->n_params;
       ++i) {
    if (!strcmp(path, table->params[i].path)) {
      *index = i;
      return RTL_LOOKUP_FOUND;
    }
  }
  return RTL_LOOKUP_UNKNOWN;
}

const char*
rtl_param_check(const RtlParamTable* const table,
                const unsigned             index,
                const float                value)
{
  const RtlParamInfo* const p = &table->params[index];
  if (isnan(value) || value < p->min || value > p->max) {
    return "out of range";
  }
  if (p->type == 'i' && value != 0.0f && value != 1.0f) {
    return "out of range";
  }
  return NULL;
}

RtlStatus
rtl_model_init(RtlAllocator* const        allocator,
               RtlModel* const            model,
               const RtlParamTable* const table)
{
  model->allocator = allocator;
  model->table     = table;
  model->seq       = 0U;
  memset(model->ccmap, 0, sizeof(model->ccmap));
  model->slots =
    (RtlSlot*)rtl_calloc(allocator, table->n_params, sizeof(RtlSlot));
  model->settled =
    (uint32_t*)rtl_calloc(allocator, table->n_params, sizeof(uint32_t));
  if (!model->slots || !model->settled) {
    rtl_model_destroy(model);
    return RTL_NO_MEM;
  }
  for (unsigned i = 0U; i < table->n_params; ++i) {
    model->slots[i].value = table->params[i].def;
  }
  return RTL_SUCCESS;
}

void
rtl_model_destroy(RtlModel* const model)
{
  rtl_free(model->allocator, model->slots);
  rtl_free(model->allocator, model->settled);
  model->slots   = NULL;
  model->settled = NULL;
}

void
rtl_model_set(RtlModel* const model,
              const unsigned  index,
              const float     value,
              const bool      timed)
{
  RtlSlot* const slot = &model->slots[index];
  slot->value         = value;
  ++slot->serial;
  slot->flags = timed ? RTL_SLOT_TIMED : 0U;
  if (!timed) {
    model->settled[index] = slot->serial;
  }
}

bool
rtl_model_take_report(RtlModel* const model,
                      const unsigned  index,
                      const float     value,
                      const uint32_t  mixer_serial)
{
  // Serials only grow (modulo 2^32): the mixer's is at or after the
  // settled one if it adopted that setting before the CC
  if (index >= model->table->n_params ||
      (int32_t)(mixer_serial - model->settled[index]) < 0) {
    return false;
  }
  rtl_model_set(model, index, value, true);
  return true;
}

void
rtl_model_map_cc(RtlModel* const model, const unsigned cc, const uint32_t index)
{
  if (cc < RTL_MIDI_CCS) {
    model->ccmap[cc] =
      index < model->table->n_params ? (uint16_t)(index + 1U) : 0U;
  }
}

RtlStateSnapshot*
rtl_model_snapshot(RtlModel* const model)
{
  const size_t            n    = model->table->n_params;
  RtlStateSnapshot* const snap = (RtlStateSnapshot*)rtl_malloc(
    model->allocator, sizeof(RtlStateSnapshot) + n * sizeof(RtlSlot));
  if (!snap) {
    return NULL;
  }
  snap->seq      = ++model->seq;
  snap->n_params = (uint32_t)n;
  snap->reserved = 0U;
  memcpy(snap->ccmap, model->ccmap, sizeof(snap->ccmap));
  memcpy(snap->slots, model->slots, n * sizeof(RtlSlot));
  return snap;
}

void
rtl_state_snapshot_free(void* const state, void* const user_data)
{
  rtl_free((RtlAllocator*)user_data, state);
}
