/* The smallest smoke test: one write(2) to stdout, then exit_group(0). */
#include <unistd.h>

int main(void)
{
    static const char msg[] = "hello, world\n";
    return write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1;
}
