// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// Starting and stopping a processor the one way every host does.

#include <rtlane/processor.h>

#include <check.h>
#include <stddef.h>

Suite*
rtl_suite_processor(void);

typedef struct {
  int inits;
  int releases;
  int refuse;
  int state;
} Counts;

static void*
count_init(const RtlProcessorConfig* const config, void* const user_data)
{
  Counts* const c = (Counts*)user_data;
  ck_assert_uint_eq(config->max_block, 64U);
  ++c->inits;
  return c->refuse ? NULL : &c->state;
}

static void
count_process(void* const               self,
              const float* const* const in,
              float* const* const       out,
              const RtlMidiEvent* const events,
              const uint32_t            n_events,
              const uint32_t            n_frames)
{
  (void)self;
  (void)in;
  (void)out;
  (void)events;
  (void)n_events;
  (void)n_frames;
}

static void
count_release(void* const self)
{
  Counts* const c = (Counts*)((char*)self - offsetof(Counts, state));
  ++c->releases;
}

START_TEST(test_init_release)
{
  Counts                   c    = {0, 0, 0, 0};
  const RtlProcessorConfig cfg  = {48000.0, 64U, 1U, 1U};
  RtlProcessor             p    = {RTL_PROCESSOR_ABI_VERSION,
                                   "count",
                                   0U,
                                   count_init,
                                   count_process,
                                   count_release,
                                   &c};
  void*                    self = NULL;
  ck_assert_int_eq(rtl_processor_init(&p, &cfg, &self), RTL_SUCCESS);
  ck_assert_ptr_eq(self, &c.state);
  ck_assert_int_eq(c.inits, 1);
  rtl_processor_release(&p, self);
  ck_assert_int_eq(c.releases, 1);

  // A refusal is a failure, and leaves nothing to release.
  c.refuse = 1;
  self     = &c;
  ck_assert_int_eq(rtl_processor_init(&p, &cfg, &self), RTL_FAILURE);
  ck_assert_ptr_null(self);

  // Without init() the state is the user data; without release() nothing
  // is called.
  p.init    = NULL;
  p.release = NULL;
  ck_assert_int_eq(rtl_processor_init(&p, &cfg, &self), RTL_SUCCESS);
  ck_assert_ptr_eq(self, &c);
  rtl_processor_release(&p, self);
  ck_assert_int_eq(c.inits, 2);
  ck_assert_int_eq(c.releases, 1);

  // Nor is a NULL user data a refusal when there is no init().
  p.user_data = NULL;
  ck_assert_int_eq(rtl_processor_init(&p, &cfg, &self), RTL_SUCCESS);
  ck_assert_ptr_null(self);
}
END_TEST

Suite*
rtl_suite_processor(void)
{
  Suite* const s    = suite_create("processor");
  TCase* const core = tcase_create("core");
  tcase_add_test(core, test_init_release);
  suite_add_tcase(s, core);
  return s;
}
