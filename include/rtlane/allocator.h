// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_ALLOCATOR_H
#define RTLANE_ALLOCATOR_H

#include <rtlane/attributes.h>

#include <stddef.h>

RTL_BEGIN_DECLS

/**
   @file allocator.h
   Pluggable allocation for constructors.

   Only constructors (and rtl_snapshot_publish(), for its reclamation
   record, from its holder's allocator) allocate, and they take an
   allocator so that an application can use its own pool and so that tests
   can make every allocation fail in turn.  Pass NULL anywhere for the
   system allocator.
*/

typedef struct RtlAllocatorImpl RtlAllocator;

struct RtlAllocatorImpl {
  void* (*malloc)(RtlAllocator* self, size_t size);
  void* (*calloc)(RtlAllocator* self, size_t nmemb, size_t size);
  /// `alignment` is a power of two; `size` need not be a multiple of it.
  void* (*aligned_alloc)(RtlAllocator* self, size_t alignment, size_t size);
  void (*free)(RtlAllocator* self, void* ptr);
  void (*aligned_free)(RtlAllocator* self, void* ptr);
};

/**
   The system allocator (malloc, posix_memalign).

   Any thread, not RT-safe to use (the allocator itself is not); getting the
   pointer is.
*/
RTL_API RTL_CONST_FUNC RtlAllocator*
rtl_default_allocator(void);

/**
   Allocate with `allocator`, or the system allocator if it is NULL.

   Any thread `allocator` may be used from (the system's: any), not RT-safe.
*/
RTL_API void*
rtl_malloc(RtlAllocator* allocator, size_t size);

/**
   Zeroed allocation with `allocator`, or the system allocator if NULL.

   Any thread `allocator` may be used from (the system's: any), not RT-safe.
*/
RTL_API void*
rtl_calloc(RtlAllocator* allocator, size_t nmemb, size_t size);

/**
   Aligned allocation with `allocator`, or the system allocator if NULL.

   Any thread `allocator` may be used from (the system's: any), not RT-safe.
*/
RTL_API void*
rtl_aligned_alloc(RtlAllocator* allocator, size_t alignment, size_t size);

/**
   Free memory from rtl_malloc() or rtl_calloc(); NULL is ignored.

   Any thread `allocator` may be used from (the system's: any), not RT-safe.
*/
RTL_API void
rtl_free(RtlAllocator* allocator, void* ptr);

/**
   Free memory from rtl_aligned_alloc(); NULL is ignored.

   Any thread `allocator` may be used from (the system's: any), not RT-safe.
*/
RTL_API void
rtl_aligned_free(RtlAllocator* allocator, void* ptr);

RTL_END_DECLS

#endif // RTLANE_ALLOCATOR_H
