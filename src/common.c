// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _DEFAULT_SOURCE

#include "common.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

RtlStatus
rtl_lock_memory(void* const ptr, const size_t size)
{
  if (!ptr || !size) {
    return RTL_SUCCESS;
  }

  // Write to every page so it is backed before the real-time side runs,
  // whether or not mlock is permitted.  Each byte is written back as it is
  // (through volatile, so the write stays): the memory keeps its contents.
  const long        page_size = sysconf(_SC_PAGESIZE);
  const size_t      step      = page_size > 0 ? (size_t)page_size : 4096U;
  volatile uint8_t* bytes     = (volatile uint8_t*)ptr;
  for (size_t i = 0U; i < size; i += step) {
    // cppcheck-suppress selfAssignment ; the write is the point (see above)
    bytes[i] = bytes[i];
  }
  // cppcheck-suppress selfAssignment ; as above
  bytes[size - 1U] = bytes[size - 1U];

  return mlock(ptr, size) ? RTL_SYSTEM_ERROR : RTL_SUCCESS;
}
