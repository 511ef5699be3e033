// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "alloc_trap.h"

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)

bool
rtl_alloc_trap_available(void)
{
  return false;
}

void
rtl_alloc_trap_arm(void)
{
}

size_t
rtl_alloc_trap_disarm(void)
{
  return 0U;
}

#else

#  include <errno.h>

// glibc's own entry points, which the wrappers forward to.
void*
__libc_malloc(size_t size);
void*
__libc_calloc(size_t nmemb, size_t size);
void*
__libc_realloc(void* ptr, size_t size);
void*
__libc_memalign(size_t alignment, size_t size);
void
__libc_free(void* ptr);

static _Thread_local bool   armed;
static _Thread_local size_t calls;

static inline void
note(void)
{
  if (armed) {
    ++calls;
  }
}

void*
malloc(size_t size);
void*
calloc(size_t nmemb, size_t size);
void*
realloc(void* ptr, size_t size);
void
free(void* ptr);
int
posix_memalign(void** memptr, size_t alignment, size_t size);
void*
aligned_alloc(size_t alignment, size_t size);
void*
memalign(size_t alignment, size_t size);

void*
malloc(const size_t size)
{
  note();
  return __libc_malloc(size);
}

void*
calloc(const size_t nmemb, const size_t size)
{
  note();
  return __libc_calloc(nmemb, size);
}

void*
realloc(void* const ptr, const size_t size)
{
  note();
  return __libc_realloc(ptr, size);
}

void
free(void* const ptr)
{
  note();
  __libc_free(ptr);
}

int
posix_memalign(void** const memptr, const size_t alignment, const size_t size)
{
  note();
  if (!alignment || (alignment & (alignment - 1U)) ||
      alignment % sizeof(void*)) {
    return EINVAL;
  }
  void* const ptr = __libc_memalign(alignment, size);
  if (!ptr) {
    return ENOMEM;
  }
  *memptr = ptr;
  return 0;
}

void*
aligned_alloc(const size_t alignment, const size_t size)
{
  note();
  return __libc_memalign(alignment, size);
}

void*
memalign(const size_t alignment, const size_t size)
{
  note();
  return __libc_memalign(alignment, size);
}

bool
rtl_alloc_trap_available(void)
{
  return true;
}

void
rtl_alloc_trap_arm(void)
{
  calls = 0U;
  armed = true;
}

size_t
rtl_alloc_trap_disarm(void)
{
  armed = false;
  return calls;
}

#endif
