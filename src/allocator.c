// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _POSIX_C_SOURCE 200809L

#include <rtlane/allocator.h>

#include <stdlib.h>

static void*
default_malloc(RtlAllocator* const self, const size_t size)
{
  (void)self;
  return malloc(size);
}

static void*
default_calloc(RtlAllocator* const self, const size_t nmemb, const size_t size)
{
  (void)self;
  return calloc(nmemb, size);
}

static void*
default_aligned_alloc(RtlAllocator* const self,
                      const size_t        alignment,
                      const size_t        size)
{
  (void)self;
  void*        ptr   = NULL;
  const size_t align = alignment < sizeof(void*) ? sizeof(void*) : alignment;
  return posix_memalign(&ptr, align, size ? size : 1) ? NULL : ptr;
}

static void
default_free(RtlAllocator* const self, void* const ptr)
{
  (void)self;
  free(ptr);
}

RtlAllocator*
rtl_default_allocator(void)
{
  static RtlAllocator allocator = {
    default_malloc,
    default_calloc,
    default_aligned_alloc,
    default_free,
    default_free,
  };
  return &allocator;
}

static RtlAllocator*
resolve(RtlAllocator* const allocator)
{
  return allocator ? allocator : rtl_default_allocator();
}

void*
rtl_malloc(RtlAllocator* const allocator, const size_t size)
{
  RtlAllocator* const a = resolve(allocator);
  return a->malloc(a, size);
}

void*
rtl_calloc(RtlAllocator* const allocator, const size_t nmemb, const size_t size)
{
  RtlAllocator* const a = resolve(allocator);
  return a->calloc(a, nmemb, size);
}

void*
rtl_aligned_alloc(RtlAllocator* const allocator,
                  const size_t        alignment,
                  const size_t        size)
{
  RtlAllocator* const a = resolve(allocator);
  return a->aligned_alloc(a, alignment, size);
}

void
rtl_free(RtlAllocator* const allocator, void* const ptr)
{
  if (ptr) {
    RtlAllocator* const a = resolve(allocator);
    a->free(a, ptr);
  }
}

void
rtl_aligned_free(RtlAllocator* const allocator, void* const ptr)
{
  if (ptr) {
    RtlAllocator* const a = resolve(allocator);
    a->aligned_free(a, ptr);
  }
}
