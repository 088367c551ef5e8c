/*
 * Capabilities: capget/capset (versions, probing, the subset rules), prctl's
 * bounding set, keepcaps, securebits and ambient set, how the sets follow
 * setresuid/setfsuid and exec (set-uid root program, ambient, no_new_privs),
 * permission checks made by capability rather than by uid 0, and
 * RLIMIT_NPROC on fork and after setuid.
 *
 * Run as root natively. The bounding set printed is whatever the caller has:
 * the sandbox starts its root with the bounding set of whoever runs it.
 * Each scenario runs in a child, so that changes do not leak between them.
 */
#include "workdir.h"
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define CAP(c) (1ULL << (c))
#define ODD_UID 54329       /* a uid nobody on the host runs processes as */

static void caps(const char *when)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    printf("%s:", when);
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp", 7)) {
            line[strcspn(line, "\n")] = 0;
            char *tab = strchr(line, '\t');
            printf(" %.6s=%s", line, tab ? tab + 1 : "?");
        }
    }
    if (f)
        fclose(f);
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf(" uid=%u/%u/%u\n", r, e, s);
}

static struct __user_cap_data_struct data[2];

static long get(int version, int pid)
{
    struct __user_cap_header_struct h = {version, pid};
    memset(data, 0xAA, sizeof data);
    return syscall(SYS_capget, &h, data);
}

static long set(unsigned long long eff, unsigned long long prm, unsigned long long inh)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)}};
    return syscall(SYS_capset, &h, d);
}

static unsigned long long prm_now(void)
{
    get(_LINUX_CAPABILITY_VERSION_3, 0);
    return data[0].permitted | (unsigned long long)data[1].permitted << 32;
}

static void wait_child(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    fflush(stdout);
}

#define SCENARIO(name) \
    for (pid_t _p = (fflush(stdout), fork()); _p >= 0; wait_child(_p), _p = -1) \
        if (_p == 0 && (printf("-- %s\n", name), 1))

static void capget_capset(void)
{
    struct __user_cap_header_struct h = {0x12345678, 0};
    SHOW(syscall(SYS_capget, &h, data));
    printf("version written back: %#x\n", h.version);
    h.version = 0x12345678;
    SHOW(syscall(SYS_capget, &h, NULL));
    printf("version written back: %#x\n", h.version);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    SHOW(syscall(SYS_capget, &h, NULL));
    SHOW(syscall(SYS_capget, BADPTR, data));
    SHOW(syscall(SYS_capget, &h, BADPTR));
    SHOW(get(_LINUX_CAPABILITY_VERSION_3, -1));
    SHOW(get(_LINUX_CAPABILITY_VERSION_3, 99999999));
    SHOW(get(_LINUX_CAPABILITY_VERSION_1, 0));
    printf("v1 word 1 untouched: %d\n", data[1].effective == 0xAAAAAAAA);
    SHOW(get(_LINUX_CAPABILITY_VERSION_2, 0));
    SHOW(get(_LINUX_CAPABILITY_VERSION_3, getpid()));

    unsigned long long all = prm_now();
    SHOW(set(all & ~CAP(CAP_CHOWN), all, 0));
    caps("effective without chown");
    SHOW(set(all, all, 0));
    SHOW(set(all, all & ~CAP(CAP_KILL), 0));
    SHOW(set(all & ~CAP(CAP_KILL), all & ~CAP(CAP_KILL), 0));
    SHOW(set(all, all, 0));
    caps("permitted without kill");
    SHOW(set(0, all, CAP(CAP_NET_RAW)));
    caps("inheritable net_raw");
    struct __user_cap_header_struct other = {_LINUX_CAPABILITY_VERSION_3, 1};
    SHOW(syscall(SYS_capset, &other, data));
    SHOW(syscall(SYS_capset, &h, BADPTR));
    struct __user_cap_header_struct v1 = {_LINUX_CAPABILITY_VERSION_1, 0};
    struct __user_cap_data_struct d1 = {0xFFFFFFFF, 0xFFFFFFFF, 0};
    SHOW(syscall(SYS_capset, &v1, &d1));        /* more than permitted */
    d1.effective = d1.permitted = (uint32_t)prm_now();
    SHOW(syscall(SYS_capset, &v1, &d1));
    caps("after a version-1 capset");
}

static void prctls(void)
{
    SHOW(prctl(PR_GET_SECCOMP));
    SHOW(prctl(PR_CAPBSET_READ, CAP_CHOWN));
    SHOW(prctl(PR_CAPBSET_READ, 63));
    SHOW(prctl(PR_CAPBSET_READ, -1));
    SHOW(prctl(PR_CAPBSET_DROP, CAP_NET_RAW));
    SHOW(prctl(PR_CAPBSET_DROP, 99));
    SHOW(prctl(PR_CAPBSET_READ, CAP_NET_RAW));
    unsigned long long p = prm_now();
    SHOW(set(p, p, CAP(CAP_NET_RAW)));         /* outside the bounding set */
    SHOW(set(p, p, CAP(CAP_NET_ADMIN)));
    caps("bounding set without net_raw");

    SHOW(prctl(PR_GET_KEEPCAPS));
    SHOW(prctl(PR_SET_KEEPCAPS, 2));
    SHOW(prctl(PR_SET_KEEPCAPS, 1));
    SHOW(prctl(PR_GET_KEEPCAPS));
    SHOW(prctl(PR_GET_SECUREBITS));
    SHOW(prctl(PR_SET_SECUREBITS, 1 << 15));
    SHOW(prctl(PR_SET_SECUREBITS, 0x30));      /* keep-caps, locked */
    SHOW(prctl(PR_GET_SECUREBITS));
    SHOW(prctl(PR_SET_KEEPCAPS, 0));
    SHOW(prctl(PR_SET_SECUREBITS, 0x20));      /* change a locked bit */
    SHOW(prctl(PR_SET_SECUREBITS, 0x10));      /* unlock */
    SHOW(prctl(PR_SET_SECUREBITS, 0x70));      /* add another bit */
    SHOW(prctl(PR_GET_SECUREBITS));

    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
    SHOW(set(p, p, CAP(CAP_NET_ADMIN) | CAP(CAP_NET_BIND_SERVICE)));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 1, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_ADMIN, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, 9, CAP_NET_ADMIN, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 99, 0, 0));
    caps("ambient net_bind_service");
    SHOW(set(p, p, CAP(CAP_NET_ADMIN)));        /* drops it from ambient too */
    caps("inheritable without net_bind_service");
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
    SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    caps("ambient cleared");
}

static void transitions(void)
{
    SCENARIO("setresuid to non-root loses everything") {
        SHOW(setresuid(1000, 1000, 1000));
        caps("uid 1000");
        SHOW(setresuid(0, 0, 0));
        exit(0);
    }
    SCENARIO("keepcaps keeps the permitted set") {
        SHOW(prctl(PR_SET_KEEPCAPS, 1));
        SHOW(setresuid(1000, 1000, 1000));
        caps("uid 1000 with keepcaps");
        SHOW(set(prm_now() & CAP(CAP_SETUID), prm_now(), 0));
        SHOW(setresuid(0, 0, 0));
        caps("back to 0 by CAP_SETUID");
        exit(0);
    }
    SCENARIO("effective follows the effective uid") {
        SHOW(setresuid(-1, 1000, -1));
        caps("euid 1000");
        SHOW(setuid(0));
        caps("euid 0 again");
        SHOW(setreuid(1000, -1));
        caps("ruid 1000");
        exit(0);
    }
    SCENARIO("fsuid moves the file-system capabilities") {
        SHOW(setfsuid(1000));
        caps("fsuid 1000");
        SHOW(setfsuid(0));
        caps("fsuid 0");
        SHOW(prctl(PR_SET_SECUREBITS, 1 << 2));        /* no-setuid-fixup */
        SHOW(setfsuid(1000));
        SHOW(setresuid(1000, 1000, 1000));
        caps("uid 1000 without fixups");
        exit(0);
    }
    SCENARIO("setresuid to the same ids resets a moved fsuid") {
        SHOW(setfsuid(1000));
        SHOW(setresuid(-1, 0, -1));
        SHOW(setfsuid(-1));
        caps("fsuid back with the effective uid");
        SHOW(setfsgid(1000));
        SHOW(setresgid(-1, 0, -1));
        SHOW(setfsgid(-1));
        exit(0);
    }
    SCENARIO("without CAP_SETUID and CAP_SETGID") {
        unsigned long long p = prm_now();
        SHOW(set(p & ~(CAP(CAP_SETUID) | CAP(CAP_SETGID)), p, 0));
        SHOW(setuid(1000));
        SHOW(setresuid(-1, 1000, -1));
        SHOW(setgid(1000));
        SHOW(setgroups(0, NULL));
        SHOW(setresgid(-1, 1000, -1));
        SHOW(setfsuid(1000));
        SHOW(setfsuid(-1));
        SHOW(prctl(PR_CAPBSET_DROP, CAP_CHOWN));      /* CAP_SETPCAP still there */
        SHOW(set(p & ~CAP(CAP_SETPCAP), p, 0));
        SHOW(prctl(PR_CAPBSET_DROP, CAP_CHOWN));
        SHOW(prctl(PR_SET_SECUREBITS, 0));
        exit(0);
    }
}

static void file_checks(void)
{
    int fd = open("f", O_CREAT | O_WRONLY, 0600);
    close(fd);
    SHOW(chown("f", 1000, 1000));
    SHOW(mkdir("d", 0700));
    SHOW(chown("d", 1000, 1000));
    SHOW(mkdir("sticky", 01777));
    int sfd = open("sticky/theirs", O_CREAT | O_WRONLY, 0666);
    close(sfd);
    SHOW(chown("sticky/theirs", 1000, 1000));
    SCENARIO("without CAP_CHOWN, CAP_FOWNER, CAP_FSETID") {
        unsigned long long p = prm_now();
        SHOW(set(p & ~(CAP(CAP_CHOWN) | CAP(CAP_FOWNER) | CAP(CAP_FSETID)), p, 0));
        SHOW(chown("f", 0, 0));
        SHOW(chmod("f", 0644));
        SHOW(unlink("sticky/theirs"));
        SHOW(open("f", O_RDWR));     /* DAC_OVERRIDE still there */
        exit(0);
    }
    SCENARIO("without CAP_DAC_OVERRIDE: CAP_DAC_READ_SEARCH reads") {
        unsigned long long p = prm_now();
        SHOW(set(p & ~CAP(CAP_DAC_OVERRIDE), p, 0));
        int r = open("f", O_RDONLY);
        printf("open(f, O_RDONLY) %s\n", r >= 0 ? "ok" : errname(errno));
        SHOW(open("f", O_WRONLY));
        SHOW(open("d/new", O_CREAT | O_WRONLY, 0600));
        SHOW(access("d", X_OK));
        SHOW(faccessat(AT_FDCWD, "f", R_OK, AT_EACCESS));
        exit(0);
    }
    SCENARIO("without either DAC capability") {
        unsigned long long p = prm_now();
        SHOW(set(p & ~(CAP(CAP_DAC_OVERRIDE) | CAP(CAP_DAC_READ_SEARCH)), p, 0));
        SHOW(open("f", O_RDONLY));
        SHOW(open("d/x", O_RDONLY));
        SHOW(chdir("d"));
        exit(0);
    }
    SCENARIO("without CAP_MKNOD, CAP_SYS_CHROOT, CAP_SYS_ADMIN") {
        unsigned long long p = prm_now();
        SHOW(set(p & ~(CAP(CAP_MKNOD) | CAP(CAP_SYS_CHROOT) | CAP(CAP_SYS_ADMIN)), p, 0));
        SHOW(mknod("null", S_IFCHR | 0600, makedev(1, 3)));
        SHOW(mknod("fifo", S_IFIFO | 0600, 0));
        SHOW(chroot("."));
        SHOW(sethostname("x", 1));
        SHOW(unlink("fifo"));
        exit(0);
    }
    SCENARIO("access() as a real non-root with effective root") {
        SHOW(setresuid(1000, 0, 0));
        SHOW(access("f", R_OK));
        SHOW(faccessat(AT_FDCWD, "f", R_OK, AT_EACCESS));
        exit(0);
    }
    SHOW(unlink("sticky/theirs"));
    SHOW(rmdir("sticky"));
    SHOW(rmdir("d"));
    SHOW(unlink("f"));
}

static void exec_self(const char *prog, const char *what)
{
    fflush(stdout);
    execl(prog, prog, "--show", what, (char *)NULL);
    printf("exec %s: %s\n", prog, errname(errno));
    exit(1);
}

static void execs(const char *self)
{
    char prog[128];
    snprintf(prog, sizeof prog, "%s/suid", tmpdir);
    /* a set-uid root copy of this program */
    int in = open(self, O_RDONLY), out = open(prog, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            return;
    close(in);
    close(out);
    SHOW(chmod(prog, 04755));

    SCENARIO("exec as root") {
        SHOW(set(CAP(CAP_CHOWN), CAP(CAP_CHOWN) | CAP(CAP_KILL), CAP(CAP_KILL)));
        exec_self(prog, "root after capset");
    }
    SCENARIO("exec with ambient capabilities as uid 1000") {
        SHOW(prctl(PR_SET_KEEPCAPS, 1));
        SHOW(setresuid(1000, 1000, 1000));
        unsigned long long p = prm_now();
        SHOW(set(p, p, CAP(CAP_NET_BIND_SERVICE)));
        SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
        exec_self(self, "ambient");
    }
    SCENARIO("exec a set-uid root program as uid 1000") {
        SHOW(setresuid(1000, 1000, 1000));
        exec_self(prog, "set-uid root");
    }
    SCENARIO("exec a set-uid root program with no_new_privs") {
        SHOW(setresuid(1000, 1000, 1000));
        SHOW(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
        exec_self(prog, "no_new_privs");
    }
    SCENARIO("exec a set-uid program owned by 1000 as root") {
        SHOW(chown(prog, 1000, 0));
        SHOW(chmod(prog, 04755));
        exec_self(prog, "set-uid 1000");
    }
    SHOW(unlink(prog));
}

static void nproc(const char *self)
{
    SCENARIO("RLIMIT_NPROC on fork") {
        struct rlimit rl = {3, 3};
        SHOW(setrlimit(RLIMIT_NPROC, &rl));
        SHOW(setresgid(ODD_UID, ODD_UID, ODD_UID));
        SHOW(setresuid(ODD_UID, ODD_UID, ODD_UID));
        pid_t kids[4];
        int made = 0;
        for (int i = 0; i < 4; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                pause();
                _exit(0);
            }
            if (kids[i] < 0) {
                printf("fork %d: %s\n", i, errname(errno));
                break;
            }
            made++;
        }
        printf("forked %d\n", made);
        for (int i = 0; i < made; i++) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
        }
        pid_t again = fork();
        if (again == 0)
            _exit(0);
        printf("fork after reaping: %s\n", again > 0 ? "ok" : errname(errno));
        if (again > 0)
            waitpid(again, NULL, 0);
        exit(0);
    }
    SCENARIO("RLIMIT_NPROC at exec after setuid") {
        int ready[2];
        SHOW(pipe(ready));
        pid_t holders[2];
        for (int i = 0; i < 2; i++) {
            holders[i] = fork();
            if (holders[i] == 0) {
                setresgid(ODD_UID, ODD_UID, ODD_UID);
                setresuid(ODD_UID, ODD_UID, ODD_UID);
                if (write(ready[1], "x", 1) != 1)
                    _exit(1);
                pause();
                _exit(0);
            }
        }
        char c[2];
        for (int i = 0; i < 2; i++)
            if (read(ready[0], c, 1) != 1)
                exit(1);
        struct rlimit rl = {1, 1};
        SHOW(setrlimit(RLIMIT_NPROC, &rl));
        SHOW(setresuid(ODD_UID, ODD_UID, ODD_UID));
        fflush(stdout);
        execl(self, self, "--show", "nproc", (char *)NULL);
        printf("exec over RLIMIT_NPROC: %s\n", errname(errno));
        for (int i = 0; i < 2; i++) {
            kill(holders[i], SIGKILL);
            waitpid(holders[i], NULL, 0);
        }
        fflush(stdout);
        execl(self, self, "--show", "nproc after the holder died", (char *)NULL);
        printf("exec: %s\n", errname(errno));
        exit(1);
    }
}

static void signals(void)
{
    pid_t victim = fork();
    if (victim == 0) {
        signal(SIGUSR1, SIG_IGN);
        pause();
        _exit(0);
    }
    SCENARIO("signals from uid 1000 to a root process") {
        SHOW(setresuid(1000, 1000, 1000));
        SHOW(kill(victim, 0));
        SHOW(kill(victim, SIGUSR1));
        SHOW(syscall(SYS_tgkill, victim, victim, SIGUSR1));
        SHOW(syscall(SYS_tkill, victim, SIGUSR1));
        siginfo_t si = {0};
        si.si_code = SI_QUEUE;
        SHOW(syscall(SYS_rt_sigqueueinfo, victim, SIGUSR1, &si));
        SHOW(kill(victim, SIGCONT));        /* same session */
        SHOW(kill(getpid(), 0));
        SHOW(kill(victim, 99));
        exit(0);
    }
    SCENARIO("signals from uid 1000 keeping CAP_KILL") {
        SHOW(prctl(PR_SET_KEEPCAPS, 1));
        SHOW(setresuid(1000, 1000, 1000));
        SHOW(set(CAP(CAP_KILL), CAP(CAP_KILL), 0));
        SHOW(kill(victim, SIGUSR1));
        exit(0);
    }
    SCENARIO("signals from a root with a saved uid of 1000") {
        SHOW(setresuid(0, 0, 1000));
        SHOW(set(0, prm_now(), 0));
        SHOW(kill(victim, SIGUSR1));        /* the real uid matches */
        exit(0);
    }
    kill(victim, SIGKILL);
    waitpid(victim, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--show")) {
        caps(argv[2]);
        printf("AT_SECURE=%lu dumpable=%d\n", getauxval(AT_SECURE), prctl(PR_GET_DUMPABLE));
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return 1;
    self[n] = 0;
    enter_tmpdir();
    caps("start");
    SCENARIO("capget and capset") {
        capget_capset();
        exit(0);
    }
    SCENARIO("prctl") {
        prctls();
        exit(0);
    }
    transitions();
    signals();
    file_checks();
    execs(self);
    nproc(self);
    leave_tmpdir();
    return 0;
}
