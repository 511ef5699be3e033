// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "state.h"

#include <rtlane/allocator.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char* suffix;
  char        type;
  float       min;
  float       max;
  float       def;
  const char* description;
} channel_params[RTL_PARAMS_PER_CHANNEL] = {
  { "gain", 'f', RTL_GAIN_MIN_DB, RTL_GAIN_MAX_DB, 0.0f,
    "channel gain in dB, -90..12 (-90 is silence), smoothed" },
  { "pan", 'f', -1.0f, 1.0f, 0.0f,
    "channel pan, -1 (left)..1 (right), constant power" },
  { "mute", 'i', 0.0f, 1.0f, 0.0f, "channel mute, 0 or 1" },
  { "solo", 'i', 0.0f, 1.0f, 0.0f,
    "channel solo, 0 or 1; while any channel is soloed only soloed channels "
    "are heard" },
};

RtlStatus
rtl_param_table_init(RtlParamTable* const table, const unsigned n_inputs)
{
  const unsigned n = n_inputs * RTL_PARAMS_PER_CHANNEL + 2U;
  table->n_inputs  = n_inputs;
  table->n_params  = n;
  table->params    = (RtlParamInfo*)rtl_calloc(NULL, n, sizeof(RtlParamInfo));
  if (!table->params) {
    return RTL_NO_MEM;
  }

  for (unsigned c = 0U; c < n_inputs; ++c) {
    for (unsigned k = 0U; k < RTL_PARAMS_PER_CHANNEL; ++k) {
      RtlParamInfo* const p = &table->params[c * RTL_PARAMS_PER_CHANNEL + k];
      snprintf(p->path, sizeof(p->path), "/ch/%u/%s", c + 1U,
               channel_params[k].suffix);
      p->type        = channel_params[k].type;
      p->kind        = (RtlParamKind)k;
      p->channel     = (uint16_t)c;
      p->min         = channel_params[k].min;
      p->max         = channel_params[k].max;
      p->def         = channel_params[k].def;
      p->description = channel_params[k].description;
    }
  }

  RtlParamInfo* const master =
    &table->params[rtl_param_master_gain_index(table)];
  snprintf(master->path, sizeof(master->path), "/master/gain");
  master->type        = 'f';
  master->kind        = RTL_PARAM_MASTER_GAIN;
  master->min         = RTL_GAIN_MIN_DB;
  master->max         = RTL_GAIN_MAX_DB;
  master->def         = 0.0f;
  master->description = "master gain in dB, -90..12 (-90 is silence), smoothed";

  RtlParamInfo* const bpm = &table->params[rtl_param_bpm_index(table)];
  snprintf(bpm->path, sizeof(bpm->path), "/transport/bpm");
  bpm->type        = 'f';
  bpm->kind        = RTL_PARAM_BPM;
  bpm->min         = RTL_BPM_MIN;
  bpm->max         = RTL_BPM_MAX;
  bpm->def         = 120.0f;
  bpm->description = "metronome tempo in beats per minute, 20..300";

  return RTL_SUCCESS;
}

void
rtl_param_table_destroy(RtlParamTable* const table)
{
  rtl_free(NULL, table->params);
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
       i < table->n_params; ++i) {
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
rtl_model_init(RtlModel* const model, const RtlParamTable* const table)
{
  model->table = table;
  model->seq   = 0U;
  memset(model->ccmap, 0, sizeof(model->ccmap));
  model->slots = (RtlSlot*)rtl_calloc(NULL, table->n_params, sizeof(RtlSlot));
  if (!model->slots) {
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
  rtl_free(NULL, model->slots);
  model->slots = NULL;
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
    NULL, sizeof(RtlStateSnapshot) + n * sizeof(RtlSlot));
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
  (void)user_data;
  rtl_free(NULL, state);
}
