// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "thread.h"

RtlStatus
rtl_thread_start(pthread_t* const  thread,
                 const char* const name,
                 void* (*const func)(void*),
                 void* const arg)
{
  pthread_attr_t attr;
  if (pthread_attr_init(&attr)) {
    return RTL_SYSTEM_ERROR;
  }
  pthread_attr_setstacksize(&attr, RTL_THREAD_STACK);
  const int err = pthread_create(thread, &attr, func, arg);
  pthread_attr_destroy(&attr);
  if (err) {
    return RTL_SYSTEM_ERROR;
  }
  // A name longer than 15 characters is refused, and that is all.
  (void)pthread_setname_np(*thread, name);
  return RTL_SUCCESS;
}
