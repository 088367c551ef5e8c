/*
 * System V message queues: msgget, msgsnd, msgrcv, msgctl. Type selection
 * (0, >0, <0, MSG_EXCEPT), MSG_NOERROR, MSG_COPY, IPC_NOWAIT, blocking on an
 * empty and a full queue woken by another process, IPC_RMID waking waiters,
 * msg_qbytes and msgmax limits, permissions and bad input. Every queue is
 * IPC_PRIVATE and removed at exit.
 */
#include "common.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>

struct msg { long mtype; char mtext[64]; };

static int ids[8], nids;

static void cleanup(void)
{
    for (int i = 0; i < nids; i++)
        msgctl(ids[i], IPC_RMID, NULL);
}

static int track(int id)
{
    if (id >= 0 && nids < 8)
        ids[nids++] = id;
    return id;
}

static int child_status(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? 1000 + WTERMSIG(st) : WEXITSTATUS(st);
}

static int snd(int id, long type, const char *text, int flg)
{
    struct msg m = {type, ""};
    strncpy(m.mtext, text, sizeof m.mtext - 1);
    return msgsnd(id, &m, strlen(text), flg);
}

static void rcv(int id, size_t size, long type, int flg)
{
    struct msg m;
    memset(&m, 0, sizeof m);
    long n = msgrcv(id, &m, size, type, flg);
    if (n < 0)
        printf("msgrcv(%zu, %ld, %#o) = -1 %s\n", size, type, flg, errname(errno));
    else
        printf("msgrcv(%zu, %ld, %#o) = %ld type %ld \"%.*s\"\n", size, type, flg, n, m.mtype, (int)n, m.mtext);
}

static void show_stat(const char *label, int id)
{
    struct msqid_ds ds;
    if (msgctl(id, IPC_STAT, &ds) < 0) {
        printf("%s: IPC_STAT = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s: mode %#o qnum %lu cbytes %lu qbytes %lu stime %s rtime %s\n", label, ds.msg_perm.mode,
           (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes,
           ds.msg_stime ? "set" : "0", ds.msg_rtime ? "set" : "0");
}

static int await_qnum(int id, unsigned long want)
{
    for (int i = 0; i < 2000; i++) {
        struct msqid_ds ds;
        if (msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_qnum == want)
            return 1;
        usleep(1000);
    }
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    atexit(cleanup);

    SHOW(msgget(0x7a11c0de, 0600));
    int id = track(msgget(IPC_PRIVATE, 0600));
    CHECK(id >= 0);
    show_stat("new", id);

    SHOW(snd(id, 1, "one", 0));
    SHOW(snd(id, 2, "two", 0));
    SHOW(snd(id, 3, "three", 0));
    SHOW(snd(id, 1, "uno", 0));
    show_stat("four sent", id);
    rcv(id, 64, 0, IPC_NOWAIT | MSG_COPY);
    rcv(id, 64, 3, IPC_NOWAIT | MSG_COPY);
    rcv(id, 64, 9, IPC_NOWAIT | MSG_COPY);
    rcv(id, 2, 1, IPC_NOWAIT | MSG_COPY | MSG_NOERROR);
    rcv(id, 64, 1, MSG_COPY);
    rcv(id, 64, 1, IPC_NOWAIT | MSG_COPY | MSG_EXCEPT);
    rcv(id, 64, 2, IPC_NOWAIT);
    rcv(id, 64, -3, IPC_NOWAIT);
    rcv(id, 64, 1, IPC_NOWAIT | MSG_EXCEPT);
    rcv(id, 2, 0, IPC_NOWAIT);
    rcv(id, 2, 0, IPC_NOWAIT | MSG_NOERROR);
    rcv(id, 64, 0, IPC_NOWAIT);
    rcv(id, 64, 0, IPC_NOWAIT);
    show_stat("drained", id);

    /* bad input */
    SHOW(snd(id, 0, "zero", 0));
    SHOW(snd(id, -5, "neg", 0));
    SHOW(msgsnd(id, BADPTR, 4, 0));
    struct msg m = {1, "x"};
    SHOW(msgsnd(id, &m, 9000, 0));
    SHOW(msgsnd(id, &m, (size_t)-1, 0));
    SHOW(msgsnd(-1, &m, 1, 0));
    SHOW(msgsnd(id + 1000000, &m, 1, 0));
    snd(id, 4, "four", 0);
    SHOW(msgrcv(id, BADPTR, 64, 0, IPC_NOWAIT));
    SHOW(msgrcv(-1, &m, 64, 0, 0));
    SHOW(msgctl(id, 99, NULL));
    SHOW(msgctl(id, IPC_STAT, BADPTR));

    /* a blocked receive, woken by a child's send */
    pid_t c = fork();
    if (c == 0) {
        usleep(20000);
        snd(id, 7, "seven", 0);
        _exit(0);
    }
    rcv(id, 64, 7, 0);
    SHOW(child_status(c));

    /* a full queue: msg_qbytes lowered, a blocked send woken by a receive */
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    ds.msg_qbytes = 10;
    SHOW(msgctl(id, IPC_SET, &ds));
    show_stat("qbytes 10", id);
    SHOW(snd(id, 5, "0123456789", IPC_NOWAIT));
    SHOW(snd(id, 5, "012345", IPC_NOWAIT));
    c = fork();
    if (c == 0) {
        printf("child: blocked send %d\n", snd(id, 6, "abcdef", 0));
        _exit(0);
    }
    usleep(50000);
    show_stat("child blocked", id);
    struct msg got;
    long n = msgrcv(id, &got, 64, 0, 0);        /* (shown after the child's line) */
    SHOW(child_status(c));
    printf("received %ld type %ld\n", n, got.mtype);
    show_stat("after send", id);
    ds.msg_qbytes = 1 << 30;
    SHOW(msgctl(id, IPC_SET, &ds));

    /* another user */
    ds.msg_perm.mode = 0620;
    ds.msg_qbytes = 16384;
    SHOW(msgctl(id, IPC_SET, &ds));
    c = fork();
    if (c == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(9);
        printf("other: send %s\n", snd(id, 1, "hi", IPC_NOWAIT) ? errname(errno) : "0");
        struct msg r;
        printf("other: recv %s\n", msgrcv(id, &r, 8, 0, IPC_NOWAIT) < 0 ? errname(errno) : "ok");
        printf("other: IPC_RMID %s\n", msgctl(id, IPC_RMID, NULL) ? errname(errno) : "0");
        _exit(0);
    }
    SHOW(child_status(c));

    /* info */
    struct msginfo mi;
    int maxidx = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
    CHECK(maxidx >= (id & 0x7fff));
    printf("IPC_INFO: msgmax %d msgmnb %d msgssz %d msgseg %d msgpool %d\n", mi.msgmax, mi.msgmnb, mi.msgssz,
           mi.msgseg, mi.msgpool);
    CHECK(msgctl(0, MSG_INFO, (struct msqid_ds *)&mi) == maxidx);
    CHECK(mi.msgpool >= 1 && mi.msgmap >= 1 && mi.msgtql >= 6);
    CHECK(msgctl(id & 0x7fff, MSG_STAT, &ds) == id);
    CHECK(msgctl(id & 0x7fff, MSG_STAT_ANY, &ds) == id);

    /* IPC_RMID wakes a blocked receiver with EIDRM */
    c = fork();
    if (c == 0) {
        struct msg r;
        long n = msgrcv(id, &r, 64, 99, 0);
        printf("child: receive %s\n", n < 0 ? errname(errno) : "ok");
        _exit(0);
    }
    usleep(50000);
    CHECK(await_qnum(id, 1));
    int removed = msgctl(id, IPC_RMID, NULL);   /* (shown after the child's line) */
    SHOW(child_status(c));
    SHOW(removed);
    show_stat("removed", id);
    return 0;
}
