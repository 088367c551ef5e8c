/*
 * fcntl(F_NOTIFY): dnotify on directories.  Each change in a watched directory
 * sends the fd's owner the dnotify signal (SIGIO, or F_SETSIG's queued signal,
 * one per event); DN_MULTISHOT keeps the watch, else it goes after one signal;
 * F_NOTIFY 0 and closing any fd of the watched file in the table remove it.
 *
 * usage: fcntl_notify DIR   (DIR: a writable directory to work in)
 */
#include "common.h"
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t got[65];

static void on_signal(int sig) { got[sig]++; }

/* What arrived since the last look: "SIGIO x1", "RT+2 x3" or "none". */
static void seen(const char *what)
{
    char out[128] = "";
    for (int s = 1; s <= 64; s++) {
        if (!got[s])
            continue;
        char one[32];
        if (s == SIGIO)
            snprintf(one, sizeof one, " SIGIO x%d", got[s]);
        else
            snprintf(one, sizeof one, " RT+%d x%d", s - SIGRTMIN, got[s]);
        strcat(out, one);
        got[s] = 0;
    }
    printf("%s:%s\n", what, out[0] ? out : " none");
}

static void setup_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGIO, &sa, NULL);
    for (int s = SIGRTMIN; s <= SIGRTMIN + 4; s++)
        sigaction(s, &sa, NULL);
}

static char dir[4096];

static const char *at(const char *name)
{
    static char p[2][4200];
    static int i;
    i ^= 1;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static void touch(const char *name)
{
    int fd = open(at(name), O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
}

/* The errors F_NOTIFY gives before any watch is set. */
static void errors(void)
{
    touch("plain");
    int f = open(at("plain"), O_RDONLY);
    SHOW(fcntl(f, F_NOTIFY, DN_CREATE));
    SHOW(fcntl(f, F_NOTIFY, 0));                 /* removing nothing: fine, on any file */
    SHOW(fcntl(f, F_NOTIFY, DN_MULTISHOT));      /* the same: no events asked for */
    close(f);
    int p = open(dir, O_PATH | O_DIRECTORY);
    SHOW(fcntl(p, F_NOTIFY, DN_CREATE));
    close(p);
    SHOW(fcntl(BADFD, F_NOTIFY, DN_CREATE));
    unlink(at("plain"));
}

/* One-shot: the first event's signal, then the watch is gone. */
static void one_shot(void)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    SHOW(fcntl(d, F_NOTIFY, DN_CREATE));
    CHECK(fcntl(d, F_GETOWN) == getpid());      /* F_NOTIFY made us the owner */
    touch("a");
    seen("create a (one-shot)");
    touch("b");
    seen("create b (watch gone)");
    unlink(at("a"));
    unlink(at("b"));
    close(d);
}

/* Multishot with F_SETSIG: a queued signal for every event the mask takes. */
static void multishot(void)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    SHOW(fcntl(d, F_SETSIG, SIGRTMIN + 1));
    SHOW(fcntl(d, F_NOTIFY, DN_MULTISHOT | DN_CREATE | DN_DELETE | DN_MODIFY | DN_ATTRIB
                             | DN_RENAME | DN_ACCESS));
    touch("f");
    seen("create f");
    int w = open(at("f"), O_WRONLY);
    seen("open f for writing");
    SHOW(write(w, "hello", 5));
    seen("write f");
    close(w);
    seen("close f");
    char buf[8];
    int r = open(at("f"), O_RDONLY);
    SHOW(read(r, buf, sizeof buf));
    seen("read f");
    close(r);
    SHOW(chmod(at("f"), 0600));
    seen("chmod f");
    SHOW(truncate(at("f"), 1));
    seen("truncate f");
    SHOW(rename(at("f"), at("g")));
    seen("rename f g");
    SHOW(link(at("g"), at("h")));
    seen("link g h");
    SHOW(unlink(at("h")));
    seen("unlink h");
    SHOW(mkdir(at("sub"), 0755));
    seen("mkdir sub");
    touch("sub/inner");
    seen("create sub/inner (not a child)");
    SHOW(unlink(at("sub/inner")));
    seen("unlink sub/inner");
    SHOW(rename(at("g"), at("sub/g")));
    seen("rename g out to sub");
    SHOW(rename(at("sub/g"), at("g")));
    seen("rename g back in");
    SHOW(symlink("g", at("sym")));
    seen("symlink sym");
    SHOW(unlink(at("sym")));
    seen("unlink sym");
    SHOW(rmdir(at("sub")));
    seen("rmdir sub");
    SHOW(chmod(dir, 0755));
    seen("chmod the directory itself");
    DIR *ls = opendir(dir);
    while (readdir(ls))
        ;
    closedir(ls);
    seen("list the directory");
    SHOW(fcntl(d, F_GETSIG));
    SHOW(fcntl(d, F_NOTIFY, 0));
    touch("x");
    seen("create x after F_NOTIFY 0");
    unlink(at("x"));
    unlink(at("g"));
    seen("cleanup");
    close(d);
}

/* Two F_NOTIFY calls add up; closing a dup of the fd removes the watch. */
static void masks_add_and_close_removes(void)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    SHOW(fcntl(d, F_SETSIG, SIGRTMIN + 2));
    SHOW(fcntl(d, F_NOTIFY, DN_MULTISHOT | DN_CREATE));
    SHOW(fcntl(d, F_NOTIFY, DN_DELETE));
    touch("m");
    seen("create m");
    unlink(at("m"));
    seen("unlink m");
    int dup_fd = dup(d);
    SHOW(close(dup_fd));
    touch("n");
    seen("create n after closing a dup");
    unlink(at("n"));
    seen("unlink n");
    close(d);
}

/* The signal goes to the owner: another process's changes reach us too, and
 * a watch whose owner is a child sends the child its signal, not us. */
static void owners(void)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    SHOW(fcntl(d, F_NOTIFY, DN_MULTISHOT | DN_CREATE));
    pid_t pid = fork();
    if (pid == 0) {
        touch("c");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    seen("a child creates c");
    unlink(at("c"));
    close(d);

    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    pid = fork();
    if (pid == 0) {
        got[SIGRTMIN + 3] = 0;
        char c;
        write(ready[1], "r", 1);
        read(go[0], &c, 1);                 /* the watch is set */
        while (!got[SIGRTMIN + 3])
            usleep(1000);
        _exit(got[SIGRTMIN + 3]);
    }
    char c;
    read(ready[0], &c, 1);
    d = open(dir, O_RDONLY | O_DIRECTORY);
    SHOW(fcntl(d, F_SETOWN, pid) == 0);
    SHOW(fcntl(d, F_SETSIG, SIGRTMIN + 3));
    SHOW(fcntl(d, F_NOTIFY, DN_CREATE));
    write(go[1], "g", 1);
    touch("e");
    int status;
    alarm(10);
    waitpid(pid, &status, 0);
    alarm(0);
    printf("child owner got its signal %d time(s)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    seen("we (not the owner)");
    unlink(at("e"));
    close(d);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    snprintf(dir, sizeof dir, "%s/dnotify.%d", argv[1], getpid());
    if (mkdir(dir, 0755) != 0) {
        perror("mkdir");
        return 1;
    }
    setbuf(stdout, NULL);
    setup_signals();
    errors();
    one_shot();
    multishot();
    masks_add_and_close_removes();
    owners();
    rmdir(dir);
    return 0;
}
