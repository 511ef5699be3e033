// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#ifndef RTL_TEST_FRAMES_H
#define RTL_TEST_FRAMES_H

/*
  Helpers shared by the stress tests of the audio paths.

  Frames encode their writer index k: channel c holds (k + 1) * (c + 1), so
  silence (0) is never a real frame, the channels of one frame can be checked
  against each other, and the position a frame is read at can be checked
  against k + L.  Floats hold these exactly below 2^24.
*/

#include <stddef.h>
#include <stdint.h>

/// A small, fast, seeded generator (Marsaglia's xorshift64); never seed 0.
static inline uint64_t
xorshift(uint64_t* const state)
{
  uint64_t x = *state;
  x ^= x << 13U;
  x ^= x >> 7U;
  x ^= x << 17U;
  return *state = x;
}

static inline float
encode(const uint64_t index, const unsigned channel)
{
  return (float)((index + 1U) * (channel + 1U));
}

/// Writer index of frame `i`, or -1 for silence, -2 for a corrupt frame.
static inline int64_t
decode(const float* const* const planes,
       const unsigned            channels,
       const size_t              i)
{
  if (planes[0][i] == 0.0f) {
    for (unsigned c = 1U; c < channels; ++c) {
      if (planes[c][i] != 0.0f) {
        return -2;
      }
    }
    return -1;
  }
  const int64_t k = (int64_t)planes[0][i] - 1;
  if (k < 0 || (float)(k + 1) != planes[0][i]) {
    return -2;
  }
  for (unsigned c = 1U; c < channels; ++c) {
    if (planes[c][i] != encode((uint64_t)k, c)) {
      return -2;
    }
  }
  return k;
}

#endif // RTL_TEST_FRAMES_H
