/*
 * /proc/self/fdinfo of an inotify fd: a line per watch, newest first, with the
 * watched inode, its device as the kernel encodes it, and the mask with
 * IN_ONESHOT and IN_EXCL_UNLINK. Each line is printed up to its file handle,
 * which no filesystem of the model exports.
 */
#include "common.h"
#include <sys/inotify.h>

int main(void)
{
    int in = inotify_init1(0);
    OK(inotify_add_watch(in, "/etc", IN_CREATE | IN_DELETE));
    OK(inotify_add_watch(in, "/etc/passwd", IN_MODIFY | IN_ONESHOT | IN_EXCL_UNLINK));
    OK(inotify_add_watch(in, "/", IN_ALL_EVENTS));
    SHOW(inotify_rm_watch(in, 1));
    char path[64], buf[4096] = {0};
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", in);
    int fd = OK(open(path, O_RDONLY));
    read(fd, buf, sizeof buf - 1);
    for (char *line = strstr(buf, "inotify"); line && *line;) {
        char *end = strchr(line, '\n');
        char *cut = strstr(line, " fhandle");
        if (!cut || cut > end)
            cut = end[-1] == ' ' ? end - 1 : end;
        printf("%.*s\n", (int)(cut - line), line);
        line = end + 1;
    }
    return 0;
}
