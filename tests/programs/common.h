/*
 * Shared helpers for the differential test programs.
 *
 * Every program prints what it observed -- return values, errno NAMES and
 * stable struct fields -- so that its output under pylinuxabi can be compared
 * byte for byte with its output when run natively.  Nothing printed may
 * depend on the pid, uid/gid, hostname, inode numbers, timestamps, the
 * initial cwd or whether "/" is writable.
 *
 * Syscalls are mostly issued through syscall(2) so that glibc cannot
 * substitute a different syscall (e.g. stat -> newfstatat, open -> openat)
 * or hide the raw kernel behaviour.
 */
#ifndef PYLINUXABI_TEST_COMMON_H
#define PYLINUXABI_TEST_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* The programs pass bad pointers and sizes on purpose. */
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wnonnull"

/* An address that is never mapped: must give EFAULT wherever the kernel
 * actually dereferences it. */
#define BADPTR ((void *)1)
/* A descriptor number that is never open in these programs. */
#define BADFD 999

static __attribute__((unused)) const char *errname(int e)
{
    static char buf[32];
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EIDRM: return "EIDRM";
    case ENOMSG: return "ENOMSG";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENODATA: return "ENODATA";
    case EOVERFLOW: return "EOVERFLOW";
    case ENOTSOCK: return "ENOTSOCK";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    default:
        snprintf(buf, sizeof buf, "E#%d", e);
        return buf;
    }
}

/* Print "label = value", or "label = -1 ENAME" when r == -1. */
static __attribute__((unused)) long show_(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}

/* Like show_, but prints "ok" instead of a value that may legitimately
 * differ between runs (pids, addresses, counts of host things). */
static __attribute__((unused)) long okay_(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = ok\n", label);
    return r;
}

/* Like show_, in octal (modes, umasks, open flags). */
static __attribute__((unused)) long show_oct_(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = %#lo\n", label, r);
    return r;
}

/* SHOW(expr): evaluate, print the exact result or the errno name. */
#define SHOW(expr) show_(#expr, (long)(expr))
/* OCT(expr): like SHOW, the value in octal. */
#define OCT(expr) show_oct_(#expr, (long)(expr))
/* OK(expr): evaluate, print "ok" or the errno name. */
#define OK(expr) okay_(#expr, (long)(expr))
/* CHECK(cond): print whether an invariant holds. */
#define CHECK(cond) printf("%s: %s\n", #cond, (cond) ? "yes" : "NO")

/* A path of 5000 characters (longer than PATH_MAX): ENAMETOOLONG. */
static __attribute__((unused)) const char *long_path(void)
{
    static char p[5001];
    if (!p[0]) {
        p[0] = '/';
        for (int i = 1; i < 5000; i++)
            p[i] = (i % 100 == 0) ? '/' : 'a';
        p[5000] = 0;
    }
    return p;
}

/* A short path whose last component is 300 characters (> NAME_MAX). */
static __attribute__((unused)) const char *long_name(void)
{
    static char p[320];
    if (!p[0]) {
        strcpy(p, "/etc/");
        memset(p + 5, 'n', 300);
        p[305] = 0;
    }
    return p;
}

/* Names for the S_IFMT bits of a mode. */
static __attribute__((unused)) const char *ftype(unsigned mode)
{
    switch (mode & 0170000) {
    case 0140000: return "sock";
    case 0120000: return "link";
    case 0100000: return "reg";
    case 0060000: return "blk";
    case 0040000: return "dir";
    case 0020000: return "chr";
    case 0010000: return "fifo";
    default: return "?";
    }
}

/* Flush stdio before issuing raw writes to fd 1. */
#define FLUSH() fflush(stdout)

#endif
