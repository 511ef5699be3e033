// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTLANE_RTLANE_H
#define RTLANE_RTLANE_H

/**
   @file rtlane.h
   Everything in librtlane.  Prefer the single headers in your own code;
   this one is for quick experiments.
*/

#include <rtlane/allocator.h>  // IWYU pragma: export
#include <rtlane/attributes.h> // IWYU pragma: export
#include <rtlane/broadcast.h>  // IWYU pragma: export
#include <rtlane/engine.h>     // IWYU pragma: export
#include <rtlane/meter.h>      // IWYU pragma: export
#include <rtlane/msgring.h>    // IWYU pragma: export
#include <rtlane/processor.h>  // IWYU pragma: export
#include <rtlane/queue.h>      // IWYU pragma: export
#include <rtlane/ring.h>       // IWYU pragma: export
#include <rtlane/snapshot.h>   // IWYU pragma: export
#include <rtlane/status.h>     // IWYU pragma: export
#include <rtlane/writeahead.h> // IWYU pragma: export

#endif // RTLANE_RTLANE_H
