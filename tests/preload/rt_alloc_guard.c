// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

// rt_alloc_guard.so: an LD_PRELOAD object that catches heap allocation on a
// JACK process thread.  It wraps jack_set_process_callback() so every cycle
// runs through a trampoline that marks the thread as "inside the process
// callback" (and, for clients that drive their own loop with
// jack_set_process_thread(), marks the span between jack_cycle_wait() and
// jack_cycle_signal()).  The malloc family is interposed; a call while the
// mark is set counts a violation and writes one line with write(2).  At exit
// it prints
//   rt_alloc_guard: <cycles> cycles, <violations> allocations in the process
//   callback
// so a test can demand cycles > 0 (the guard really ran) and violations == 0.
// RT_ALLOC_GUARD_ABORT=1 aborts on the first violation instead.

#define _GNU_SOURCE

#include <jack/jack.h>

#include <dlfcn.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RT_GUARD_MAX_CLIENTS 32
#define RT_GUARD_MAX_MESSAGES 20
#define RT_GUARD_BOOT_SIZE (64U * 1024U)

#define RT_GUARD_EXPORT __attribute__((visibility("default")))

typedef void* (*RtGuardMalloc)(size_t);
typedef void* (*RtGuardCalloc)(size_t, size_t);
typedef void* (*RtGuardRealloc)(void*, size_t);
typedef void (*RtGuardFree)(void*);
typedef int (*RtGuardPosixMemalign)(void**, size_t, size_t);
typedef void* (*RtGuardAlignedAlloc)(size_t, size_t);
typedef void* (*RtGuardValloc)(size_t);
typedef int (*RtGuardSetProcess)(jack_client_t*, JackProcessCallback, void*);
typedef jack_nframes_t (*RtGuardCycleWait)(jack_client_t*);
typedef void (*RtGuardCycleSignal)(jack_client_t*, int);

// ISO C has no conversion from dlsym()'s object pointer to a function
// pointer; POSIX guarantees the representation, so copy the bytes.
#define LOOKUP(fp, name)                       \
  do {                                         \
    void* const sym_ = dlsym(RTLD_NEXT, name); \
    memcpy(&(fp), &sym_, sizeof(fp));          \
  } while (0)

typedef struct {
  JackProcessCallback callback;
  void*               arg;
} RtGuardSlot;

static RtGuardMalloc        real_malloc;
static RtGuardCalloc        real_calloc;
static RtGuardRealloc       real_realloc;
static RtGuardFree          real_free;
static RtGuardPosixMemalign real_posix_memalign;
static RtGuardAlignedAlloc  real_aligned_alloc;
static RtGuardAlignedAlloc  real_memalign;
static RtGuardValloc        real_valloc;

// Initial-exec TLS: a preloaded object gets static TLS, and the default
// model could call __tls_get_addr, which may allocate: from inside malloc.
static _Thread_local int in_process __attribute__((tls_model("initial-exec")));
static _Thread_local int resolving __attribute__((tls_model("initial-exec")));

static atomic_ulong n_cycles;
static atomic_ulong n_violations;
static atomic_int   abort_on_violation = -1;

static RtGuardSlot slots[RT_GUARD_MAX_CLIENTS];
static atomic_int  n_slots;

// dlsym() may allocate while the real functions are being resolved; those
// early requests come from this bump buffer and are never freed.
static alignas(max_align_t) unsigned char boot_buf[RT_GUARD_BOOT_SIZE];
static atomic_size_t boot_used;

static void*
boot_alloc(const size_t size, const size_t align)
{
  const size_t a = align < alignof(max_align_t) ? alignof(max_align_t) : align;
  // A size header sits just before each block so realloc() can copy.
  size_t off   = atomic_load_explicit(&boot_used, memory_order_relaxed);
  size_t start = 0U;
  do {
    start = (off + sizeof(size_t) + a - 1U) & ~(a - 1U);
    if (start + size > sizeof(boot_buf)) {
      return NULL;
    }
  } while (!atomic_compare_exchange_weak_explicit(&boot_used,
                                                  &off,
                                                  start + size,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed));
  memcpy(boot_buf + start - sizeof(size_t), &size, sizeof(size_t));
  return boot_buf + start;
}

static bool
is_boot(const void* const p)
{
  const unsigned char* const c = (const unsigned char*)p;
  return c >= boot_buf && c < boot_buf + sizeof(boot_buf);
}

static void
resolve(void)
{
  if (real_free) {
    return;
  }
  resolving = 1;
  LOOKUP(real_malloc, "malloc");
  LOOKUP(real_calloc, "calloc");
  LOOKUP(real_realloc, "realloc");
  LOOKUP(real_posix_memalign, "posix_memalign");
  LOOKUP(real_aligned_alloc, "aligned_alloc");
  LOOKUP(real_memalign, "memalign");
  LOOKUP(real_valloc, "valloc");
  LOOKUP(real_free, "free");
  resolving = 0;
}

static void
say(const char* const s)
{
  const ssize_t n = write(STDERR_FILENO, s, strlen(s));
  (void)n;
}

static void
violation(const char* const what)
{
  if (!in_process) {
    return;
  }
  const unsigned long n =
    atomic_fetch_add_explicit(&n_violations, 1UL, memory_order_relaxed);
  if (n < RT_GUARD_MAX_MESSAGES) {
    say("rt_alloc_guard: ");
    say(what);
    say(" called in the process callback\n");
  }
  int ab = atomic_load_explicit(&abort_on_violation, memory_order_relaxed);
  if (ab < 0) {
    // getenv() does not allocate.
    const char* const e = getenv("RT_ALLOC_GUARD_ABORT");
    ab                  = e && e[0] == '1';
    atomic_store_explicit(&abort_on_violation, ab, memory_order_relaxed);
  }
  if (ab) {
    say("rt_alloc_guard: aborting (RT_ALLOC_GUARD_ABORT=1)\n");
    abort();
  }
}

RT_GUARD_EXPORT void*
malloc(size_t size)
{
  if (resolving) {
    return boot_alloc(size, 0U);
  }
  resolve();
  violation("malloc");
  return real_malloc(size);
}

RT_GUARD_EXPORT void*
calloc(size_t n, size_t size)
{
  if (resolving) {
    if (size && n > SIZE_MAX / size) {
      return NULL;
    }
    return boot_alloc(n * size, 0U); // static storage: already zero
  }
  resolve();
  violation("calloc");
  return real_calloc(n, size);
}

RT_GUARD_EXPORT void*
realloc(void* ptr, size_t size)
{
  if (resolving) {
    return boot_alloc(size, 0U);
  }
  resolve();
  violation("realloc");
  if (is_boot(ptr)) {
    size_t old = 0U;
    memcpy(&old, (unsigned char*)ptr - sizeof(size_t), sizeof(size_t));
    void* const q = real_malloc(size);
    if (q) {
      memcpy(q, ptr, old < size ? old : size);
    }
    return q;
  }
  return real_realloc(ptr, size);
}

RT_GUARD_EXPORT void
free(void* ptr)
{
  if (!ptr || is_boot(ptr)) {
    return;
  }
  resolve();
  violation("free");
  real_free(ptr);
}

RT_GUARD_EXPORT int
posix_memalign(void** out, size_t align, size_t size)
{
  if (resolving) {
    *out = boot_alloc(size, align);
    return *out ? 0 : 12; // ENOMEM
  }
  resolve();
  violation("posix_memalign");
  return real_posix_memalign(out, align, size);
}

RT_GUARD_EXPORT void*
aligned_alloc(size_t align, size_t size)
{
  if (resolving) {
    return boot_alloc(size, align);
  }
  resolve();
  violation("aligned_alloc");
  return real_aligned_alloc(align, size);
}

RT_GUARD_EXPORT void*
memalign(size_t align, size_t size)
{
  if (resolving) {
    return boot_alloc(size, align);
  }
  resolve();
  violation("memalign");
  return real_memalign(align, size);
}

RT_GUARD_EXPORT void*
valloc(size_t size)
{
  if (resolving) {
    return boot_alloc(size, 4096U);
  }
  resolve();
  violation("valloc");
  return real_valloc(size);
}

static int
trampoline(const jack_nframes_t nframes, void* const arg)
{
  const RtGuardSlot* const slot = (const RtGuardSlot*)arg;
  atomic_fetch_add_explicit(&n_cycles, 1UL, memory_order_relaxed);
  in_process   = 1;
  const int rc = slot->callback(nframes, slot->arg);
  in_process   = 0;
  return rc;
}

RT_GUARD_EXPORT int
jack_set_process_callback(jack_client_t*      client,
                          JackProcessCallback callback,
                          void*               arg)
{
  static RtGuardSetProcess real_set;
  if (!real_set) {
    LOOKUP(real_set, "jack_set_process_callback");
    if (!real_set) {
      say("rt_alloc_guard: jack_set_process_callback not found\n");
      return -1;
    }
  }
  if (!callback) {
    return real_set(client, callback, arg);
  }
  // Called before activation, from a non-RT thread: slots are only ever
  // appended, and the pointer handed to JACK is stable.
  const int i = atomic_fetch_add_explicit(&n_slots, 1, memory_order_relaxed);
  if (i >= RT_GUARD_MAX_CLIENTS) {
    say("rt_alloc_guard: too many clients, this one is not guarded\n");
    return real_set(client, callback, arg);
  }
  slots[i].callback = callback;
  slots[i].arg      = arg;
  return real_set(client, trampoline, &slots[i]);
}

RT_GUARD_EXPORT jack_nframes_t
jack_cycle_wait(jack_client_t* client)
{
  static RtGuardCycleWait real_wait;
  if (!real_wait) {
    LOOKUP(real_wait, "jack_cycle_wait");
  }
  const jack_nframes_t n = real_wait(client);
  atomic_fetch_add_explicit(&n_cycles, 1UL, memory_order_relaxed);
  in_process = 1;
  return n;
}

RT_GUARD_EXPORT void
jack_cycle_signal(jack_client_t* client, int status)
{
  static RtGuardCycleSignal real_signal;
  in_process = 0;
  if (!real_signal) {
    LOOKUP(real_signal, "jack_cycle_signal");
  }
  real_signal(client, status);
}

static void
put_ulong(char* const buf, size_t* const len, const unsigned long v)
{
  char          tmp[24];
  size_t        n = 0U;
  unsigned long x = v;
  do {
    tmp[n++] = (char)('0' + (char)(x % 10UL));
    x /= 10UL;
  } while (x);
  while (n) {
    buf[(*len)++] = tmp[--n];
  }
}

__attribute__((destructor)) static void
report(void)
{
  char              line[160];
  size_t            len = 0U;
  static const char a[] = "rt_alloc_guard: ";
  static const char b[] = " cycles, ";
  static const char c[] = " allocations in the process callback\n";
  memcpy(line, a, sizeof(a) - 1U);
  len += sizeof(a) - 1U;
  put_ulong(line, &len, atomic_load_explicit(&n_cycles, memory_order_relaxed));
  memcpy(line + len, b, sizeof(b) - 1U);
  len += sizeof(b) - 1U;
  put_ulong(
    line, &len, atomic_load_explicit(&n_violations, memory_order_relaxed));
  memcpy(line + len, c, sizeof(c) - 1U);
  len += sizeof(c) - 1U;
  const ssize_t n = write(STDERR_FILENO, line, len);
  (void)n;
}
