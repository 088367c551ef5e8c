/* /proc/sysvipc/{shm,sem,msg}: Linux's columns for the System V IPC objects the
 * program makes. Each object's line is rebuilt here from what IPC_STAT says (ids,
 * pids, times differ between runs) with Linux's format, and compared; the header
 * and the stable fields are printed. */
#include "common.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

static char text[1 << 16];

static void slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    long n = 0, r;
    text[0] = 0;
    if (fd < 0) {
        printf("%s: %s\n", path, errname(errno));
        return;
    }
    while (n < (long)sizeof text - 1 && (r = read(fd, text + n, sizeof text - 1 - n)) > 0)
        n += r;
    text[n] = 0;
    close(fd);
}

/* The line of `path` whose second column is id; "" if none. */
static const char *line_of(const char *path, int id, char *out, size_t size)
{
    slurp(path);
    out[0] = 0;
    for (char *p = strchr(text, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        int key, ident;
        if (sscanf(p + 1, "%d %d", &key, &ident) == 2 && ident == id) {
            size_t n = strcspn(p + 1, "\n") + 1;
            snprintf(out, n + 1 < size ? n + 1 : size, "%s", p + 1);
            break;
        }
    }
    return out;
}

static void header(const char *path)
{
    slurp(path);
    printf("%s header: %.*s", path, (int)strcspn(text, "\n") + 1, text);
}

static void check(const char *what, const char *got, const char *want)
{
    printf("%s line in Linux's format: %s\n", what, strcmp(got, want) == 0 ? "yes" : "NO");
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:  %swant: %s", got, want);
}

int main(int argc, char **argv)
{
    char got[512], want[512];
    if (argc > 1) {         /* leave one object of each kind with key argv[1], for ipcs */
        key_t k = (key_t)strtoul(argv[1], NULL, 0);
        int id = shmget(k, 5000, IPC_CREAT | 0600);
        int sid = semget(k, 2, IPC_CREAT | 0640);
        int qid = msgget(k, IPC_CREAT | 0604);
        struct { long type; char text[8]; } m = {1, "abc"};
        msgsnd(qid, &m, 4, 0);
        return id < 0 || sid < 0 || qid < 0;
    }
    header("/proc/sysvipc/shm");
    header("/proc/sysvipc/sem");
    header("/proc/sysvipc/msg");

    int shm = shmget(0x5ca1ab1e, 10000, IPC_CREAT | 0640);
    char *addr = shmat(shm, NULL, 0);
    addr[0] = 1;
    struct shmid_ds sd;
    shmctl(shm, IPC_STAT, &sd);
    snprintf(want, sizeof want, "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n",
             sd.shm_perm.__key, shm, sd.shm_perm.mode, (unsigned long)sd.shm_segsz, sd.shm_cpid, sd.shm_lpid,
             (unsigned long)sd.shm_nattch, sd.shm_perm.uid, sd.shm_perm.gid, sd.shm_perm.cuid, sd.shm_perm.cgid,
             (unsigned long long)sd.shm_atime, (unsigned long long)sd.shm_dtime, (unsigned long long)sd.shm_ctime,
             4096UL, 0UL);
    check("shm", line_of("/proc/sysvipc/shm", shm, got, sizeof got), want);
    printf("shm fields: key %d perms %s size %s nattch %s\n", sd.shm_perm.__key, strstr(got, "  640 ") ? "640" : "?",
           strstr(got, " 10000 ") ? "10000" : "?", sd.shm_nattch == 1 ? "1" : "?");
    /* removed while attached: shown keyless with SHM_DEST until the last detach */
    shmctl(shm, IPC_RMID, NULL);
    shmctl(shm, IPC_STAT, &sd);
    int key;
    unsigned mode;
    sscanf(line_of("/proc/sysvipc/shm", shm, got, sizeof got), "%d %*d %o", &key, &mode);
    printf("removed shm: key %d mode %o\n", key, mode);
    shmdt(addr);
    printf("detached: listed: %s\n", *line_of("/proc/sysvipc/shm", shm, got, sizeof got) ? "yes" : "no");

    int sem = semget(IPC_PRIVATE, 3, 0600);
    struct sembuf op = {0, 2, 0};
    semop(sem, &op, 1);
    struct semid_ds sm;
    union { int val; struct semid_ds *buf; } arg = {.buf = &sm};
    semctl(sem, 0, IPC_STAT, arg);
    snprintf(want, sizeof want, "%10d %10d  %4o %10lu %5u %5u %5u %5u %10llu %10llu\n",
             sm.sem_perm.__key, sem, sm.sem_perm.mode, (unsigned long)sm.sem_nsems, sm.sem_perm.uid, sm.sem_perm.gid,
             sm.sem_perm.cuid, sm.sem_perm.cgid, (unsigned long long)sm.sem_otime, (unsigned long long)sm.sem_ctime);
    check("sem", line_of("/proc/sysvipc/sem", sem, got, sizeof got), want);
    semctl(sem, 0, IPC_RMID);
    printf("removed sem listed: %s\n", *line_of("/proc/sysvipc/sem", sem, got, sizeof got) ? "yes" : "no");

    int msg = msgget(IPC_PRIVATE, 0666);
    struct { long type; char text[100]; } m = {1, "hello"};
    msgsnd(msg, &m, 6, 0);
    msgsnd(msg, &m, 20, 0);
    struct msqid_ds mq;
    msgctl(msg, IPC_STAT, &mq);
    snprintf(want, sizeof want, "%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u %10llu %10llu %10llu\n",
             mq.msg_perm.__key, msg, mq.msg_perm.mode, (unsigned long)mq.__msg_cbytes, (unsigned long)mq.msg_qnum,
             mq.msg_lspid, mq.msg_lrpid, mq.msg_perm.uid, mq.msg_perm.gid, mq.msg_perm.cuid, mq.msg_perm.cgid,
             (unsigned long long)mq.msg_stime, (unsigned long long)mq.msg_rtime, (unsigned long long)mq.msg_ctime);
    check("msg", line_of("/proc/sysvipc/msg", msg, got, sizeof got), want);
    printf("msg: cbytes %lu qnum %lu\n", (unsigned long)mq.__msg_cbytes, (unsigned long)mq.msg_qnum);
    msgctl(msg, IPC_RMID, NULL);

    struct stat s;
    stat("/proc/sysvipc", &s);
    printf("/proc/sysvipc: %s %o\n", ftype(s.st_mode), s.st_mode & 07777);
    stat("/proc/sysvipc/shm", &s);
    printf("/proc/sysvipc/shm: %s %o\n", ftype(s.st_mode), s.st_mode & 07777);
    return 0;
}
