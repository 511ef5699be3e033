// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include <rtlane/processor.h>
#include <rtlane/status.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/*
  The loader keeps the reason for its last failure per thread, because
  dlerror()'s message does not survive the dlclose() that undoes a
  half-done load, and a daemon wants to say more than "not found".
*/
static _Thread_local char load_error[512];

static void
set_error(const char* const what, const char* const detail)
{
  snprintf(load_error,
           sizeof(load_error),
           "%s%s%s",
           what,
           detail ? ": " : "",
           detail ? detail : "");
}

RtlStatus
rtl_processor_check(const RtlProcessor* const processor)
{
  if (!processor) {
    return RTL_BAD_ARG;
  }
  if (processor->abi_version != RTL_PROCESSOR_ABI_VERSION) {
    return RTL_UNSUPPORTED;
  }
  return processor->process ? RTL_SUCCESS : RTL_BAD_ARG;
}

RtlStatus
rtl_processor_init(const RtlProcessor* const       processor,
                   const RtlProcessorConfig* const config,
                   void** const                    self)
{
  *self = processor->init ? processor->init(config, processor->user_data)
                          : processor->user_data;
  return processor->init && !*self ? RTL_FAILURE : RTL_SUCCESS;
}

void
rtl_processor_release(const RtlProcessor* const processor, void* const self)
{
  if (processor->release) {
    processor->release(self);
  }
}

RtlStatus
rtl_processor_load(const char* const          path,
                   const RtlProcessor** const processor,
                   void** const               handle)
{
  if (processor) {
    *processor = NULL;
  }
  if (handle) {
    *handle = NULL;
  }
  if (!path || !processor || !handle) {
    set_error("bad argument", NULL);
    return RTL_BAD_ARG;
  }

  // RTLD_NOW: every symbol is bound here, not later on the worker thread;
  // RTLD_LOCAL: two plug-ins may use the same names.
  void* const lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    set_error("cannot load", dlerror());
    return RTL_NOT_FOUND;
  }

  // The object-to-function pointer conversion POSIX requires dlsym to allow
  RtlProcessorDescriptorFunc describe = NULL;
  void* const                sym = dlsym(lib, RTL_PROCESSOR_DESCRIPTOR_SYMBOL);
  memcpy(&describe, &sym, sizeof(describe));
  if (!describe) {
    set_error("no " RTL_PROCESSOR_DESCRIPTOR_SYMBOL "()", dlerror());
    dlclose(lib);
    return RTL_NOT_FOUND;
  }

  const RtlProcessor* const p  = describe();
  const RtlStatus           st = rtl_processor_check(p);
  if (st) {
    if (st == RTL_UNSUPPORTED) {
      char detail[64];
      snprintf(detail,
               sizeof(detail),
               "ABI version %u, expected %u",
               p->abi_version,
               RTL_PROCESSOR_ABI_VERSION);
      set_error("unsupported processor", detail);
    } else {
      set_error("unusable processor", p ? "no process()" : "no descriptor");
    }
    dlclose(lib);
    return st;
  }

  load_error[0] = '\0';
  *processor    = p;
  *handle       = lib;
  return RTL_SUCCESS;
}

void
rtl_processor_unload(void* const handle)
{
  if (handle) {
    dlclose(handle);
  }
}

const char*
rtl_processor_load_error(void)
{
  return load_error;
}
