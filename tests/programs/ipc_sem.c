/*
 * System V semaphores: semget, semop, semtimedop, semctl. Blocking waits
 * woken by other processes, GETNCNT/GETZCNT while they wait, IPC_RMID waking
 * them with EIDRM, timeouts, EINTR by a signal even with SA_RESTART, SEM_UNDO
 * applied at exit, the limits and bad input. Every set is IPC_PRIVATE and
 * removed at exit.
 */
#include "common.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *__buf; };

static int ids[8], nids;

static void cleanup(void)
{
    for (int i = 0; i < nids; i++)
        semctl(ids[i], 0, IPC_RMID);
}

static int track(int id)
{
    if (id >= 0 && nids < 8)
        ids[nids++] = id;
    return id;
}

static int op(int id, unsigned short num, short sop, short flg)
{
    struct sembuf b = {num, sop, flg};
    return semop(id, &b, 1);
}

static int child_status(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* wait until `count` tasks wait on sem 0 (GETNCNT or GETZCNT) */
static int await_waiters(int id, int cmd, int count)
{
    for (int i = 0; i < 2000; i++) {
        if (semctl(id, 0, cmd) == count)
            return 1;
        usleep(1000);
    }
    return 0;
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    atexit(cleanup);
    pid_t me = getpid();

    SHOW(semget(IPC_PRIVATE, 0, 0600));
    SHOW(semget(IPC_PRIVATE, -1, 0600));
    SHOW(semget(IPC_PRIVATE, 1 << 20, 0600));
    int id = track(semget(IPC_PRIVATE, 3, 0600));
    CHECK(id >= 0);
    struct semid_ds ds;
    SHOW(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
    printf("nsems %lu mode %#o otime %ld\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode, (long)ds.sem_otime);

    /* values */
    SHOW(semctl(id, 1, SETVAL, (union semun){.val = 5}));
    SHOW(semctl(id, 1, GETVAL));
    SHOW(semctl(id, 1, GETPID) == me);
    SHOW(semctl(id, 3, GETVAL));
    SHOW(semctl(id, 0, SETVAL, (union semun){.val = 32768}));
    SHOW(semctl(id, 0, SETVAL, (union semun){.val = -1}));
    unsigned short all[3] = {1, 2, 3}, got[3];
    SHOW(semctl(id, 0, SETALL, (union semun){.array = all}));
    SHOW(semctl(id, 0, GETALL, (union semun){.array = got}));
    printf("all: %d %d %d\n", got[0], got[1], got[2]);
    unsigned short bad[3] = {1, 40000, 3};
    SHOW(semctl(id, 0, SETALL, (union semun){.array = bad}));
    SHOW(semctl(id, 0, GETALL, (union semun){.array = BADPTR}));
    SHOW(semctl(id, 0, 99));
    SHOW(semctl(-1, 0, GETVAL));

    /* semop: atomic, all or nothing */
    struct sembuf two[2] = {{0, -1, 0}, {1, -5, IPC_NOWAIT}};
    SHOW(semop(id, two, 2));
    SHOW(semctl(id, 0, GETVAL));
    SHOW(op(id, 0, -1, IPC_NOWAIT));
    SHOW(op(id, 0, 0, 0));
    SHOW(op(id, 2, 32767, 0));
    SHOW(op(id, 3, 1, 0));
    SHOW(semop(id, two, 0));
    struct sembuf many[600];
    memset(many, 0, sizeof many);
    SHOW(semop(id, many, 600));
    SHOW(semop(id, BADPTR, 1));
    SHOW(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
    CHECK(ds.sem_otime != 0);

    /* a blocked decrement, counted by GETNCNT, woken by a child */
    pid_t c = fork();
    if (c == 0) {
        if (!await_waiters(id, GETNCNT, 1))
            _exit(1);
        printf("child: GETNCNT 1, GETZCNT %d\n", semctl(id, 0, GETZCNT));
        op(id, 0, 1, 0);
        _exit(0);
    }
    SHOW(op(id, 0, -1, 0));
    SHOW(child_status(c));
    SHOW(semctl(id, 0, GETPID) == me);
    SHOW(semctl(id, 0, GETNCNT));

    /* waiting for zero */
    semctl(id, 0, SETVAL, (union semun){.val = 2});
    c = fork();
    if (c == 0) {
        if (!await_waiters(id, GETZCNT, 1))
            _exit(1);
        op(id, 0, -2, 0);
        _exit(0);
    }
    SHOW(op(id, 0, 0, 0));
    SHOW(child_status(c));

    /* timeouts */
    struct timespec ts = {0, 50 * 1000 * 1000};
    struct sembuf dec = {0, -1, 0};
    SHOW(semtimedop(id, &dec, 1, &ts));
    struct timespec badts = {0, 2000000000};
    SHOW(semtimedop(id, &dec, 1, &badts));
    SHOW(semtimedop(id, &dec, 1, BADPTR));

    /* a signal ends a wait with EINTR, SA_RESTART or not */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    c = fork();
    if (c == 0) {
        if (!await_waiters(id, GETNCNT, 1))
            _exit(1);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    SHOW(op(id, 0, -1, 0));
    SHOW(child_status(c));
    SHOW(semctl(id, 0, GETNCNT));

    /* SEM_UNDO: a process's adjustments are undone when it exits */
    semctl(id, 1, SETVAL, (union semun){.val = 10});
    c = fork();
    if (c == 0) {
        op(id, 1, -3, SEM_UNDO);
        op(id, 1, 1, SEM_UNDO);
        op(id, 2, 4, SEM_UNDO);
        printf("child: sem1 %d sem2 %d\n", semctl(id, 1, GETVAL), semctl(id, 2, GETVAL));
        _exit(0);
    }
    SHOW(child_status(c));
    SHOW(semctl(id, 1, GETVAL));
    SHOW(semctl(id, 2, GETVAL));
    SHOW(semctl(id, 1, GETPID) == c);
    /* SETVAL clears the adjustment */
    c = fork();
    if (c == 0) {
        op(id, 1, -2, SEM_UNDO);
        semctl(id, 1, SETVAL, (union semun){.val = 7});
        _exit(0);
    }
    SHOW(child_status(c));
    SHOW(semctl(id, 1, GETVAL));

    /* another user */
    semctl(id, 0, SETVAL, (union semun){.val = 1});
    ds.sem_perm.mode = 0604;
    SHOW(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
    c = fork();
    if (c == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(9);
        printf("other: GETVAL %d\n", semctl(id, 0, GETVAL));
        printf("other: semop %s\n", op(id, 0, -1, IPC_NOWAIT) ? errname(errno) : "0");
        printf("other: wait for zero %s\n", op(id, 1, 0, IPC_NOWAIT) ? errname(errno) : "0");
        printf("other: SETVAL %s\n", semctl(id, 0, SETVAL, (union semun){.val = 1}) ? errname(errno) : "0");
        printf("other: IPC_RMID %s\n", semctl(id, 0, IPC_RMID) ? errname(errno) : "0");
        _exit(0);
    }
    SHOW(child_status(c));

    /* info */
    struct seminfo si;
    int maxidx = semctl(0, 0, IPC_INFO, (union semun){.__buf = &si});
    CHECK(maxidx >= (id & 0x7fff));
    printf("IPC_INFO: semmsl %d semopm %d semvmx %d semaem %d semusz %d\n", si.semmsl, si.semopm, si.semvmx,
           si.semaem, si.semusz);
    CHECK(semctl(0, 0, SEM_INFO, (union semun){.__buf = &si}) == maxidx);
    CHECK(si.semusz >= 1 && si.semaem >= 3);
    CHECK(semctl(id & 0x7fff, 0, SEM_STAT, (union semun){.buf = &ds}) == id);
    CHECK(semctl(id & 0x7fff, 0, SEM_STAT_ANY, (union semun){.buf = &ds}) == id);

    /* IPC_RMID wakes the waiters with EIDRM */
    semctl(id, 0, SETVAL, (union semun){.val = 0});
    c = fork();
    if (c == 0) {
        printf("child: waiting: %s\n", op(id, 0, -1, 0) ? errname(errno) : "0");
        _exit(0);
    }
    CHECK(await_waiters(id, GETNCNT, 1));
    int removed = semctl(id, 0, IPC_RMID);     /* (shown after the child's line) */
    SHOW(child_status(c));
    SHOW(removed);
    SHOW(semctl(id, 0, GETVAL));
    return 0;
}
