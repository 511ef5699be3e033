// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include "failing_allocator.h"

#include <stdint.h>
#include <stdlib.h>

static int
attempt(RtlAllocator* const base)
{
  RtlFailingAllocator* const self = (RtlFailingAllocator*)base;
  ++self->n_allocations;
  if (!self->n_remaining) {
    return 0;
  }
  --self->n_remaining;
  ++self->n_live;
  return 1;
}

static void*
failing_malloc(RtlAllocator* const base, const size_t size)
{
  return attempt(base) ? malloc(size) : NULL;
}

static void*
failing_calloc(RtlAllocator* const base, const size_t nmemb, const size_t size)
{
  return attempt(base) ? calloc(nmemb, size) : NULL;
}

static void*
failing_aligned_alloc(RtlAllocator* const base,
                      const size_t        alignment,
                      const size_t        size)
{
  if (!attempt(base)) {
    return NULL;
  }
  void*        ptr   = NULL;
  const size_t align = alignment < sizeof(void*) ? sizeof(void*) : alignment;
  return posix_memalign(&ptr, align, size ? size : 1) ? NULL : ptr;
}

static void
failing_free(RtlAllocator* const base, void* const ptr)
{
  RtlFailingAllocator* const self = (RtlFailingAllocator*)base;
  if (ptr) {
    --self->n_live;
    free(ptr);
  }
}

RtlFailingAllocator
rtl_failing_allocator(void)
{
  RtlFailingAllocator a = {
    {failing_malloc,
     failing_calloc,
     failing_aligned_alloc,
     failing_free,
     failing_free},
    0U,
    SIZE_MAX,
    0U,
  };
  return a;
}
