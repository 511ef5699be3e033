// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rtl-wavcheck: reads a sound file back with libsndfile and checks it.
//
//   rtl-wavcheck FILE [-r CH:START:PERIOD:AMP]... [-z CH]... [-g FROM:N]
//     describes the file, and checks channel CH (from 0) against the ramp
//     of ramp.h starting at JACK frame START (to the bit), channel CH for
//     silence; each -g excuses frames FROM..FROM+N-1 (a dropout filled
//     with silence: they must be exactly 0 instead).
//   rtl-wavcheck -c FILE_A FILE_B [-m MAXOFF]
//     finds the offset at which B's frames equal A's, and compares the
//     whole overlap sample for sample.
//
// Output: one line "frames N channels C rate R format F mismatches M
// first_mismatch K" (K is "none" when M is 0), or for -c "offset D overlap
// N mismatches M".  Exit status 0 when M is 0, 1 otherwise, 2 on errors.

#define _POSIX_C_SOURCE 200809L

#include "ramp.h"

#include <sndfile.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTL_WAVCHECK_MAX_CHECKS 64

typedef struct {
  int      channel;
  bool     ramp; ///< Otherwise silence
  uint64_t start;
  uint32_t period;
  float    amp;
} RtlCheck;

static float*
read_all(const char* const path, SF_INFO* const info)
{
  memset(info, 0, sizeof(*info));
  SNDFILE* const sf = sf_open(path, SFM_READ, info);
  if (!sf) {
    fprintf(stderr, "rtl-wavcheck: %s: %s\n", path, sf_strerror(NULL));
    return NULL;
  }
  const size_t n   = (size_t)info->frames * (size_t)info->channels;
  float* const buf = (float*)calloc(n ? n : 1U, sizeof(float));
  if (!buf || sf_readf_float(sf, buf, info->frames) != info->frames) {
    fprintf(stderr, "rtl-wavcheck: %s: short read\n", path);
    free(buf);
    sf_close(sf);
    return NULL;
  }
  sf_close(sf);
  return buf;
}

static const char*
subtype(const int format)
{
  switch (format & SF_FORMAT_SUBMASK) {
  case SF_FORMAT_FLOAT:
    return "float";
  case SF_FORMAT_PCM_24:
    return "24";
  case SF_FORMAT_PCM_16:
    return "16";
  default:
    return "other";
  }
}

static const char*
major(const int format)
{
  switch (format & SF_FORMAT_TYPEMASK) {
  case SF_FORMAT_WAV:
  case SF_FORMAT_WAVEX:
    return "wav";
  case SF_FORMAT_RF64:
    return "rf64";
  case SF_FORMAT_W64:
    return "w64";
  case SF_FORMAT_FLAC:
    return "flac";
  default:
    return "other";
  }
}

static int
compare(const char* const a_path, const char* const b_path, const long maxoff)
{
  SF_INFO      ia;
  SF_INFO      ib;
  float* const a = read_all(a_path, &ia);
  float* const b = read_all(b_path, &ib);
  if (!a || !b || ia.channels != ib.channels) {
    fprintf(stderr, "rtl-wavcheck: cannot compare\n");
    return 2;
  }
  const long   na = (long)ia.frames;
  const long   nb = (long)ib.frames;
  const size_t ch = (size_t)ia.channels;
  // B frame i is A frame i + d: the first d that makes 256 frames agree
  for (long d = -maxoff; d <= maxoff; ++d) {
    const long lo = d < 0 ? -d : 0;
    const long hi = nb < na - d ? nb : na - d;
    if (hi - lo < 256) {
      continue;
    }
    bool same = true;
    for (long i = lo; i < lo + 256 && same; ++i) {
      same = !memcmp(
        &b[(size_t)i * ch], &a[(size_t)(i + d) * ch], ch * sizeof(float));
    }
    if (!same) {
      continue;
    }
    long mismatches = 0;
    for (long i = lo; i < hi; ++i) {
      mismatches += memcmp(&b[(size_t)i * ch],
                           &a[(size_t)(i + d) * ch],
                           ch * sizeof(float)) != 0;
    }
    printf("offset %ld overlap %ld mismatches %ld\n", d, hi - lo, mismatches);
    return mismatches ? 1 : 0;
  }
  printf("offset none overlap 0 mismatches all\n");
  return 1;
}

int
main(int argc, char** argv)
{
  RtlCheck checks[RTL_WAVCHECK_MAX_CHECKS];
  int      n_checks = 0;
  uint64_t gap_from[RTL_WAVCHECK_MAX_CHECKS];
  uint64_t gap_n[RTL_WAVCHECK_MAX_CHECKS];
  int      n_gaps = 0;
  bool     cmp    = false;
  long     maxoff = 48000;
  int      c      = 0;
  while ((c = getopt(argc, argv, "r:z:g:cm:")) != -1) {
    RtlCheck* const k = &checks[n_checks];
    switch (c) {
    case 'r':
      if (n_checks == RTL_WAVCHECK_MAX_CHECKS ||
          sscanf(optarg,
                 "%d:%" SCNu64 ":%" SCNu32 ":%f",
                 &k->channel,
                 &k->start,
                 &k->period,
                 &k->amp) != 4 ||
          k->period < 2U) {
        fprintf(stderr, "rtl-wavcheck: bad -r '%s'\n", optarg);
        return 2;
      }
      k->ramp = true;
      ++n_checks;
      break;
    case 'z':
      if (n_checks == RTL_WAVCHECK_MAX_CHECKS ||
          sscanf(optarg, "%d", &k->channel) != 1) {
        fprintf(stderr, "rtl-wavcheck: bad -z '%s'\n", optarg);
        return 2;
      }
      k->ramp = false;
      ++n_checks;
      break;
    case 'g':
      if (n_gaps == RTL_WAVCHECK_MAX_CHECKS || sscanf(optarg,
                                                      "%" SCNu64 ":%" SCNu64,
                                                      &gap_from[n_gaps],
                                                      &gap_n[n_gaps]) != 2) {
        fprintf(stderr, "rtl-wavcheck: bad -g '%s'\n", optarg);
        return 2;
      }
      ++n_gaps;
      break;
    case 'c':
      cmp = true;
      break;
    case 'm':
      maxoff = strtol(optarg, NULL, 10);
      break;
    default:
      fprintf(stderr,
              "usage: rtl-wavcheck FILE [-r CH:START:PERIOD:AMP]... "
              "[-z CH]... [-g FROM:N] | -c FILE_A FILE_B [-m MAXOFF]\n");
      return 2;
    }
  }
  if (cmp) {
    return optind + 2 == argc ? compare(argv[optind], argv[optind + 1], maxoff)
                              : 2;
  }
  if (optind + 1 != argc) {
    fprintf(stderr, "rtl-wavcheck: one file\n");
    return 2;
  }

  SF_INFO      info;
  float* const buf = read_all(argv[optind], &info);
  if (!buf) {
    return 2;
  }
  const uint64_t frames     = (uint64_t)info.frames;
  const int      ch         = info.channels;
  uint64_t       mismatches = 0U;
  uint64_t       first      = UINT64_MAX;
  for (int k = 0; k < n_checks; ++k) {
    if (checks[k].channel < 0 || checks[k].channel >= ch) {
      fprintf(stderr, "rtl-wavcheck: no channel %d\n", checks[k].channel);
      return 2;
    }
    for (uint64_t i = 0U; i < frames; ++i) {
      const float got = buf[i * (uint64_t)ch + (uint64_t)checks[k].channel];
      bool        gap = false;
      for (int g = 0; g < n_gaps && !gap; ++g) {
        gap = i >= gap_from[g] && i < gap_from[g] + gap_n[g];
      }
      const float want = checks[k].ramp && !gap
                           ? rtl_ramp((uint32_t)(checks[k].start + i),
                                      checks[k].period,
                                      checks[k].amp)
                           : 0.0f;
      if (memcmp(&got, &want, sizeof(float))) {
        ++mismatches;
        first = i < first ? i : first;
      }
    }
  }
  printf("frames %" PRIu64
         " channels %d rate %d format %s:%s mismatches %" PRIu64
         " first_mismatch ",
         frames,
         ch,
         info.samplerate,
         major(info.format),
         subtype(info.format),
         mismatches);
  if (mismatches) {
    printf("%" PRIu64 "\n", first);
  } else {
    printf("none\n");
  }
  free(buf);
  return mismatches ? 1 : 0;
}
