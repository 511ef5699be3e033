// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TEST_ALLOC_TRAP_H
#define RTL_TEST_ALLOC_TRAP_H

#include <stdbool.h>
#include <stddef.h>

/*
  The unit runner replaces malloc and friends with wrappers that count calls
  made while the calling thread has armed the trap.  A test arms it, calls
  the functions that promise to be real-time safe, disarms it, and asserts
  that nothing was allocated or freed.  Sanitizer builds bring their own
  allocator, so there the trap is absent and rtl_alloc_trap_available() is
  false.
*/

bool
rtl_alloc_trap_available(void);

/// Start counting allocations made by the calling thread.
void
rtl_alloc_trap_arm(void);

/// Stop counting and return how many calls were made while armed.
size_t
rtl_alloc_trap_disarm(void);

#endif // RTL_TEST_ALLOC_TRAP_H
