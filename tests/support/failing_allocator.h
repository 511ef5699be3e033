// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TEST_FAILING_ALLOCATOR_H
#define RTL_TEST_FAILING_ALLOCATOR_H

#include <rtlane/allocator.h>

#include <stddef.h>

/*
  An allocator that succeeds `n_remaining` times and then fails, so that a
  test can walk a constructor through every one of its failure paths:

    RtlFailingAllocator a = rtl_failing_allocator();
    // count the allocations of a successful call
    ... ctor(&a.base ...) ...;  size_t n = a.n_allocations;
    for (size_t i = 0; i < n; ++i) {
      a.n_remaining = i;   // the (i+1)-th allocation fails
      ck_assert_int_eq(ctor(&a.base, ...), RTL_NO_MEM);
    }
*/
typedef struct {
  RtlAllocator base;          ///< Pass &allocator.base to constructors
  size_t       n_allocations; ///< Attempted allocations so far
  size_t       n_remaining;   ///< Successes left before failing
  size_t       n_live;        ///< Allocations not yet freed (leak check)
} RtlFailingAllocator;

/// An allocator that never fails until n_remaining is lowered.
RtlFailingAllocator
rtl_failing_allocator(void);

#endif // RTL_TEST_FAILING_ALLOCATOR_H
