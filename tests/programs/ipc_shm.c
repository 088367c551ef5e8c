/*
 * System V shared memory: shmget, shmat, shmdt, shmctl. Segments shared
 * between processes, attachments inherited by fork and ended by exec and
 * exit, IPC_RMID with attached segments, SHM_RDONLY/RND/REMAP, permissions
 * of another user, SHM_LOCK, the *_INFO and *_STAT commands, bad input.
 * Every segment is IPC_PRIVATE or a key unlikely to collide, and removed.
 */
#include "common.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define KEY 0x5e3a9c71

static int ids[8], nids;

static void cleanup(void)
{
    for (int i = 0; i < nids; i++)
        shmctl(ids[i], IPC_RMID, NULL);
}

static int track(int id)
{
    if (id >= 0 && nids < 8)
        ids[nids++] = id;
    return id;
}

static long proc_value(const char *path)
{
    unsigned long long v = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return (long)v;
}

static void show_stat(const char *label, int id, pid_t creator, pid_t last)
{
    struct shmid_ds ds;
    memset(&ds, 0x55, sizeof ds);
    if (shmctl(id, IPC_STAT, &ds) < 0) {
        printf("%s: IPC_STAT = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s: key %#x mode %#o segsz %zu nattch %lu cpid %s lpid %s\n", label,
           ds.shm_perm.__key, ds.shm_perm.mode, ds.shm_segsz, (unsigned long)ds.shm_nattch,
           ds.shm_cpid == creator ? "creator" : "other",
           ds.shm_lpid == 0 ? "0" : ds.shm_lpid == last ? "expected" : "other");
}

static int child_status(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "execed")) {
        /* after exec: tell the parent, then wait for it to let us go */
        char c = 'x';
        int fd = atoi(argv[2]);
        if (write(fd, &c, 1) != 1)
            return 1;
        close(fd);
        pause();
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    atexit(cleanup);
    pid_t me = getpid();

    /* shmget: errors */
    SHOW(shmget(IPC_PRIVATE, 0, 0600));
    SHOW(shmget(KEY, 4096, 0600));
    int k = track(shmget(KEY, 8000, IPC_CREAT | 0640));
    CHECK(k >= 0);
    SHOW(shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0600));
    SHOW(shmget(KEY, 9000, 0) == k);
    SHOW(shmget(KEY, 100, 0) == k);
    show_stat("keyed", k, me, 0);

    /* a private segment shared with a child through fork, and attached by another */
    int id = track(shmget(IPC_PRIVATE, 10000, 0600));
    CHECK(id >= 0);
    show_stat("new", id, me, 0);
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    CHECK(((unsigned long)p & 4095) == 0);
    strcpy(p, "parent");
    show_stat("attached", id, me, me);
    pid_t c = fork();
    if (c == 0) {
        struct shmid_ds ds;
        shmctl(id, IPC_STAT, &ds);
        printf("child sees nattch %lu and %s\n", (unsigned long)ds.shm_nattch, p);
        strcpy(p + 100, "from the child");
        _exit(0);
    }
    SHOW(child_status(c));
    printf("parent reads: %s\n", p + 100);
    show_stat("after child exit", id, me, c);
    c = fork();
    if (c == 0) {
        char *q = shmat(id, NULL, SHM_RDONLY);
        if (q == (void *)-1)
            _exit(2);
        printf("second attach reads: %s\n", q + 100);
        printf("mprotect write of SHM_RDONLY = %s\n",
               mprotect(q, 4096, PROT_READ | PROT_WRITE) ? errname(errno) : "0");
        printf("shmdt = %d\n", shmdt(q));
        printf("shmdt again = %s\n", shmdt(q) ? errname(errno) : "0");
        _exit(0);
    }
    SHOW(child_status(c));
    c = fork();
    if (c == 0) {
        volatile char *q = shmat(id, NULL, SHM_RDONLY);
        q[0] = 'x';
        _exit(0);
    }
    SHOW(child_status(c));      /* SIGSEGV */

    /* exec ends the child's attachments */
    int pfd[2];
    if (pipe(pfd))
        return 1;
    c = fork();
    if (c == 0) {
        char fdname[16];
        close(pfd[0]);
        snprintf(fdname, sizeof fdname, "%d", pfd[1]);
        execl("/proc/self/exe", argv[0], "execed", fdname, (char *)NULL);
        _exit(3);
    }
    close(pfd[1]);
    char ch;
    SHOW(read(pfd[0], &ch, 1));
    close(pfd[0]);
    show_stat("child exec'ed", id, me, c);
    kill(c, SIGTERM);
    SHOW(child_status(c));

    /* addresses: SHM_RND, SHM_REMAP, occupied ranges */
    char *area = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(area, 8 * 4096);
    SHOW(shmat(id, area + 5, 0) == (void *)-1 ? -errno : 0);
    char *r = shmat(id, area + 5, SHM_RND);
    SHOW(r == area);
    SHOW(shmat(id, area, 0) == (void *)-1 ? -errno : 0);
    char *r2 = shmat(id, area, SHM_REMAP);
    SHOW(r2 == area);
    SHOW(shmat(id, NULL, SHM_REMAP) == (void *)-1 ? -errno : 0);
    show_stat("remapped", id, me, me);
    SHOW(shmdt(area + 1));
    SHOW(shmdt(area + 4096));
    SHOW(shmdt(area));
    SHOW(shmat(-1, NULL, 0) == (void *)-1 ? -errno : 0);
    SHOW(shmat(id + 1000000, NULL, 0) == (void *)-1 ? -errno : 0);

    /* IPC_SET, other users */
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    ds.shm_perm.mode = 0644;
    SHOW(shmctl(id, IPC_SET, &ds));
    show_stat("mode set", id, me, me);
    c = fork();
    if (c == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(9);
        struct shmid_ds d2;
        printf("other: IPC_STAT %s\n", shmctl(id, IPC_STAT, &d2) ? errname(errno) : "0");
        printf("other: shmat rw %s\n", shmat(id, NULL, 0) == (void *)-1 ? errname(errno) : "ok");
        char *ro = shmat(id, NULL, SHM_RDONLY);
        printf("other: shmat ro %s reads %s\n", ro == (void *)-1 ? errname(errno) : "ok",
               ro == (void *)-1 ? "" : ro);
        printf("other: IPC_SET %s\n", shmctl(id, IPC_SET, &d2) ? errname(errno) : "0");
        printf("other: IPC_RMID %s\n", shmctl(id, IPC_RMID, NULL) ? errname(errno) : "0");
        printf("other: SHM_LOCK %s\n", shmctl(id, SHM_LOCK, NULL) ? errname(errno) : "0");
        printf("other: shmget keyed 0640 %s\n", shmget(KEY, 0, 0) < 0 ? errname(errno) : "ok");
        printf("other: shmget keyed for write %s\n", shmget(KEY, 0, 0200) < 0 ? errname(errno) : "ok");
        _exit(0);
    }
    SHOW(child_status(c));

    /* SHM_LOCK */
    SHOW(shmctl(id, SHM_LOCK, NULL));
    show_stat("locked", id, me, me);
    SHOW(shmctl(id, SHM_UNLOCK, NULL));
    show_stat("unlocked", id, me, me);
    c = fork();
    if (c == 0) {
        struct rlimit rl = {4096, 4096};
        struct __user_cap_header_struct { unsigned v; int pid; } h = {0x20080522, 0};
        unsigned data[6] = {0};
        setrlimit(RLIMIT_MEMLOCK, &rl);
        /* no capabilities at all: the owner, within RLIMIT_MEMLOCK or with none */
        syscall(SYS_capset, &h, data);
        printf("no caps, memlock 4096: SHM_LOCK %s\n", shmctl(id, SHM_LOCK, NULL) ? errname(errno) : "0");
        rl.rlim_cur = rl.rlim_max = 0;
        setrlimit(RLIMIT_MEMLOCK, &rl);
        printf("no caps, memlock 0: SHM_LOCK %s\n", shmctl(id, SHM_LOCK, NULL) ? errname(errno) : "0");
        printf("no caps, memlock 0: SHM_UNLOCK %s\n", shmctl(id, SHM_UNLOCK, NULL) ? errname(errno) : "0");
        _exit(0);
    }
    SHOW(child_status(c));

    /* IPC_RMID while attached: the key goes, the segment stays until the last detach */
    char *kp = shmat(k, NULL, 0);
    CHECK(kp != (void *)-1);
    SHOW(shmctl(k, IPC_RMID, NULL));
    show_stat("removed but attached", k, me, me);
    SHOW(shmget(KEY, 100, 0));
    char *kp2 = shmat(k, NULL, 0);
    CHECK(kp2 != (void *)-1);
    show_stat("attached after removal", k, me, me);
    SHOW(shmdt(kp));
    SHOW(shmdt(kp2));
    show_stat("gone", k, me, me);

    /* the *_INFO and *_STAT commands */
    struct shminfo si;
    int maxidx = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
    CHECK(maxidx >= (id & 0x7fff));
    printf("IPC_INFO: shmmin %lu shmmni ok %d shmmax ok %d shmall ok %d\n", si.shmmin,
           (long)si.shmmni == proc_value("/proc/sys/kernel/shmmni"),
           (long)si.shmmax == proc_value("/proc/sys/kernel/shmmax"),
           (long)si.shmall == proc_value("/proc/sys/kernel/shmall"));
    struct shm_info info;
    CHECK(shmctl(0, SHM_INFO, (struct shmid_ds *)&info) == maxidx);
    CHECK(info.used_ids >= 1);
    CHECK(shmctl(id & 0x7fff, SHM_STAT, &ds) == id);
    CHECK(shmctl(id & 0x7fff, SHM_STAT_ANY, &ds) == id);
    SHOW(shmctl(id, 99, &ds));
    SHOW(shmctl(-1, IPC_STAT, &ds));
    SHOW(shmctl(id, IPC_STAT, BADPTR));
    SHOW(shmctl(id, IPC_SET, BADPTR));
    SHOW(shmctl(id, IPC_INFO, BADPTR));

    /* the last detach of a removed segment by exit */
    c = fork();
    if (c == 0) {
        char *q = shmat(id, NULL, 0);
        SHOW(shmctl(id, IPC_RMID, NULL));
        q[0] = 'z';
        _exit(0);
    }
    SHOW(child_status(c));
    printf("parent still sees %c\n", p[0]);
    show_stat("removed, parent attached", id, me, c);
    SHOW(shmdt(p));
    show_stat("destroyed", id, me, me);
    return 0;
}
