// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

const char*
rtl_confine_check(const char* const name)
{
  if (!name[0]) {
    return "empty file name";
  }
  if (name[0] == '/') {
    return "absolute path outside the directory";
  }
  for (const char* p = name; *p;) {
    const char* const end = strchr(p, '/');
    const size_t      len = end ? (size_t)(end - p) : strlen(p);
    if (len == 2U && p[0] == '.' && p[1] == '.') {
      return "path leaves the directory";
    }
    p += len + (end ? 1U : 0U);
  }
  return NULL;
}

int
rtl_confine_open(const int         dir_fd,
                 const char* const name,
                 const int         flags,
                 const unsigned    mode)
{
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags     = (uint64_t)(unsigned)(flags | O_CLOEXEC);
  how.mode      = (flags & O_CREAT) ? mode : 0U;
  how.resolve   = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
  if (fd >= 0 || errno != ENOSYS) {
    return (int)fd;
  }
  // Kernels before 5.6: only names without a directory part
  if (strchr(name, '/')) {
    errno = EXDEV;
    return -1;
  }
  return openat(dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
}

const char*
rtl_confine_error(const int err)
{
  switch (err) {
  case EEXIST:
    return "exists";
  case EXDEV:
  case ELOOP:
    return "path leaves the directory";
  case ENOENT:
    return "no such file";
  case ENOTDIR:
    return "no such directory";
  case EACCES:
  case EPERM:
  case EROFS:
    return "not writable";
  case ENOSPC:
  case EDQUOT:
    return "no space left on the device";
  default:
    return strerror(err);
  }
}
