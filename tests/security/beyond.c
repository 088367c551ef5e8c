/*
 * Beyond issue 10's list: usage beyond MODE [DIR]. lent_fds: name the host
 * fds the supervisor lends every process (1000-1002). wait: sit at a
 * handshake (the test looks at our namespaces). volume DIR: escape the volume
 * at /mnt into DIR/outside by .., our symlinks and the host's. overlay DIR:
 * change DIR/existing and make DIR/new through the default overlay.
 */
#include "attack.h"
#include <sys/stat.h>

static void lent_fds(void)
{
    for (int fd = 1000; fd <= 1002; fd++) {
        struct stat st;
        char c;
        printf("%d fstat %s\n", fd, fstat(fd, &st) < 0 ? strerrorname_np(errno) : "ok");
        printf("%d fcntl %s\n", fd, fcntl(fd, F_GETFL) < 0 ? strerrorname_np(errno) : "ok");
        printf("%d dup %s\n", fd, dup(fd) < 0 ? strerrorname_np(errno) : "ok");
        printf("%d write %s\n", fd, write(fd, "", 0) < 0 ? strerrorname_np(errno) : "ok");
        if (fd != 1000)      /* reading the control socket could block */
            printf("%d read %s\n", fd, read(fd, &c, 0) < 0 ? strerrorname_np(errno) : "ok");
    }
}

static void volume(const char *dir)
{
    char out[4096];
    snprintf(out, sizeof out, "%s/outside", dir);
    symlink("../outside", "/mnt/up");
    symlink(out, "/mnt/abs");
    mkdir("/mnt/up/by-relative-symlink", 0777);
    mkdir("/mnt/abs/by-absolute-symlink", 0777);
    mkdir("/mnt/hostlink/by-host-symlink", 0777);
    mkdir("/mnt/../outside/by-dotdot", 0777);
    int d = open("/mnt", O_RDONLY | O_DIRECTORY);
    close(openat(d, "../outside/by-openat", O_CREAT | O_WRONLY, 0666));
    close(openat(d, "hostlink/by-openat-host-symlink", O_CREAT | O_WRONLY, 0666));
    close(open("/mnt/moved", O_CREAT | O_WRONLY, 0666));
    rename("/mnt/moved", "/mnt/hostlink/by-rename");
    link("/mnt/up", "/mnt/hostlink/by-link");
    printf("volume: tried\n");
}

static void overlay(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/existing", dir);
    int fd = open(path, O_WRONLY | O_TRUNC);
    write(fd, "changed", 7);
    close(fd);
    chmod(path, 0);
    truncate(path, 1);
    snprintf(path, sizeof path, "%s/new", dir);
    close(open(path, O_CREAT | O_WRONLY, 0666));
    mkdir(strcat(path, "-dir"), 0777);
    printf("overlay: tried\n");
}

int main(int argc, char **argv)
{
    const char *mode = argv[1];
    if (!strcmp(mode, "lent_fds"))
        lent_fds();
    else if (!strcmp(mode, "volume"))
        volume(argv[2]);
    else if (!strcmp(mode, "overlay"))
        overlay(argv[2]);
    else
        handshake("ready");
    return 0;
}
