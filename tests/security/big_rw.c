/*
 * Huge lengths for the supervisor to copy: usage big_rw MODE. 2 GiB from
 * MAP_NORESERVE memory to /dev/null or /dev/full, 2 GiB read from /dev/zero,
 * or two threads each writing 1 GiB to /dev/full. Handshakes "start" (the
 * test notes the supervisor's RSS) and "ready" (the test reads its peak).
 */
#include "attack.h"
#include <pthread.h>

#define GIB (1UL << 30)

static char *buf;

static void *full_writer(void *arg)
{
    int fd = open("/dev/full", O_WRONLY);
    long r = write(fd, buf + (long)arg * GIB, GIB);
    printf("thread write to /dev/full: %s\n", r < 0 ? strerror(errno) : "written");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argv[1];
    buf = mmap(NULL, 2 * GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (buf == MAP_FAILED)
        return 2;
    handshake("start");
    long r = 0;
    if (!strcmp(mode, "write_dev_null"))
        r = write(open("/dev/null", O_WRONLY), buf, 2 * GIB);
    else if (!strcmp(mode, "write_dev_full"))
        r = write(open("/dev/full", O_WRONLY), buf, 2 * GIB);
    else if (!strcmp(mode, "read_dev_zero"))
        r = read(open("/dev/zero", O_RDONLY), buf, 2 * GIB);
    else if (!strcmp(mode, "two_threads")) {
        pthread_t t[2];
        for (long i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, full_writer, (void *)i);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
    }
    printf("%s: %s\n", mode, r < 0 ? strerror(errno) : "done");
    handshake("ready");
    return 0;
}
