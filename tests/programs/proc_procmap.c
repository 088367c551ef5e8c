/*
 * PROCMAP_QUERY on /proc/self/maps (one mapping by address, with the filters,
 * name and build-id buffers and their errors; the reserved range is no mapping),
 * and FIONREAD of /proc and /sys files (size less offset).
 */
#include "common.h"
#include <sys/ioctl.h>
#include <linux/fs.h>
#ifndef PROCMAP_QUERY
struct procmap_query {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR(0x66, 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#define PROCMAP_QUERY_FILE_BACKED_VMA 0x20
#endif
#include <sys/mman.h>
static int maps;
static void q(const char *what, unsigned long addr, unsigned long flags, int name) {
    char nm[256] = {0}; unsigned char bid[20];
    struct procmap_query pq = {.size = sizeof pq, .query_flags = flags, .query_addr = addr};
    if (name) { pq.vma_name_addr = (unsigned long)nm; pq.vma_name_size = name; pq.build_id_addr = (unsigned long)bid; pq.build_id_size = 20; }
    long r = ioctl(maps, PROCMAP_QUERY, &pq);
    if (r < 0) { printf("%s: %s\n", what, errname(errno)); return; }
    printf("%s: flags %llx pgsz %llu name %s namesz %u buildid %u off %llx ino>0 %d\n", what, pq.vma_flags, pq.vma_page_size, nm, pq.vma_name_size, pq.build_id_size, pq.vma_offset, pq.inode > 0);
}
static void fionread(void)
{
    const char *files[] = {"/proc/self/maps", "/proc/self/status", "/proc/meminfo", "/proc/sys/kernel/ostype",
                           "/sys/kernel/mm/transparent_hugepage/enabled", NULL};
    for (int i = 0; files[i]; i++) {
        int fd = open(files[i], O_RDONLY), n = -7;
        char b[10];
        read(fd, b, 5);
        printf("%s: ", files[i]);
        SHOW(ioctl(fd, FIONREAD, &n));
        printf("  n=%d\n", n);
        close(fd);
    }
}

int main(void) {
    maps = open("/proc/self/maps", O_RDONLY);
    q("main", (unsigned long)main, 0, 0);
    q("main name", (unsigned long)main, 0, 256);
    q("main name short", (unsigned long)main, 0, 4);
    q("stack", (unsigned long)&maps - 0, 0, 256);
    q("zero", 0, 0, 0);
    q("zero next", 0, PROCMAP_QUERY_COVERING_OR_NEXT_VMA, 256);
    q("reserved", 0x7e0000000000, 0, 0);
    char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
    q("reserved next", 0x7e0000000000, PROCMAP_QUERY_COVERING_OR_NEXT_VMA, 0);
    q("anon", (unsigned long)m, 0, 256);
    q("anon want write", (unsigned long)m, PROCMAP_QUERY_VMA_WRITABLE, 0);
    q("file only", (unsigned long)m, PROCMAP_QUERY_FILE_BACKED_VMA, 0);
    q("bad flags", 0, 1 << 20, 0);
    struct procmap_query pq = {.size = 8};
    SHOW(ioctl(maps, PROCMAP_QUERY, &pq));
    SHOW(ioctl(maps, PROCMAP_QUERY, BADPTR));
    pq.size = sizeof pq; pq.query_addr = (unsigned long)main; pq.vma_name_size = 10;
    SHOW(ioctl(maps, PROCMAP_QUERY, &pq));
    pq.vma_name_addr = 1;
    SHOW(ioctl(maps, PROCMAP_QUERY, &pq));
    SHOW(ioctl(maps, FIONREAD, &pq));
    fionread();
    return 0;
}
