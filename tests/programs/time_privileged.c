/*
 * Setting the clock without CAP_SYS_TIME: EPERM, after Linux's EINVAL and EFAULT
 * checks in their order; reading it (adjtimex with no modes, adjtime's query) is
 * for everyone. Run natively without CAP_SYS_TIME (capsh --drop=cap_sys_time), and
 * sandboxed as root without --cap-add SYS_TIME: the host clock is nobody's to set.
 * Never run it natively with CAP_SYS_TIME: adjtimex(ADJ_OFFSET_SS_READ |
 * ADJ_SETOFFSET) passes the checks then and moves the clock by tx.time, the
 * whole epoch (conform's native run once did, before it was confined). With an
 * argument it makes only settimeofday(NULL, NULL), which sets nothing.
 */
#include "common.h"
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc > 1) {         /* "noop": the one set that changes nothing */
        SHOW(syscall(SYS_settimeofday, NULL, NULL));
        return 0;
    }
    struct timespec ts;
    struct timeval tv;
    struct timezone tz = { 0, 0 };
    struct timex tx;

    setvbuf(stdout, NULL, _IOLBF, 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("-- clock_settime\n");
    SHOW(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
    SHOW(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts));
    SHOW(syscall(SYS_clock_settime, CLOCK_TAI, &ts));
    SHOW(syscall(SYS_clock_settime, 10, &ts));
    SHOW(syscall(SYS_clock_settime, 99, &ts));
    SHOW(syscall(SYS_clock_settime, -6, &ts));          /* our own CPU clock */
    SHOW(syscall(SYS_clock_settime, CLOCK_REALTIME, BADPTR));
    SHOW(syscall(SYS_clock_settime, CLOCK_MONOTONIC, BADPTR));
    ts.tv_nsec = 1000000000;
    SHOW(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
    ts.tv_nsec = 0;
    ts.tv_sec = -1;
    SHOW(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));

    printf("-- settimeofday\n");
    gettimeofday(&tv, NULL);
    SHOW(syscall(SYS_settimeofday, &tv, NULL));
    SHOW(syscall(SYS_settimeofday, NULL, NULL));
    SHOW(syscall(SYS_settimeofday, NULL, &tz));
    SHOW(syscall(SYS_settimeofday, BADPTR, NULL));
    SHOW(syscall(SYS_settimeofday, NULL, BADPTR));
    tv.tv_usec = 1000001;
    SHOW(syscall(SYS_settimeofday, &tv, NULL));
    tv.tv_usec = -1;
    SHOW(syscall(SYS_settimeofday, &tv, BADPTR));
    tz.tz_minuteswest = 16 * 60;
    SHOW(syscall(SYS_settimeofday, NULL, &tz));

    printf("-- adjtimex\n");
    memset(&tx, 0, sizeof tx);
    CHECK(syscall(SYS_adjtimex, &tx) >= 0);
    SHOW(tx.modes);
    SHOW(tx.tick);
    CHECK(tx.precision > 0 && tx.tolerance > 0);
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_OFFSET_SS_READ;
    CHECK(syscall(SYS_adjtimex, &tx) >= 0);
    SHOW(tx.modes);
    tx.modes = ADJ_OFFSET_SS_READ | ADJ_STATUS;         /* still only a query */
    CHECK(syscall(SYS_adjtimex, &tx) >= 0);
    tx.modes = ADJ_FREQUENCY;
    SHOW(syscall(SYS_adjtimex, &tx));
    tx.modes = ADJ_TICK;
    tx.tick = 1;
    SHOW(syscall(SYS_adjtimex, &tx));
    tx.modes = ADJ_OFFSET_SINGLESHOT;
    SHOW(syscall(SYS_adjtimex, &tx));
    tx.modes = 0x8000;                                  /* ADJ_ADJTIME without SINGLESHOT */
    SHOW(syscall(SYS_adjtimex, &tx));
    tx.modes = ADJ_OFFSET_SS_READ | ADJ_SETOFFSET;
    SHOW(syscall(SYS_adjtimex, &tx));
    SHOW(syscall(SYS_adjtimex, BADPTR));

    printf("-- clock_adjtime\n");
    memset(&tx, 0, sizeof tx);
    CHECK(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) >= 0);
    SHOW(tx.tick);
    SHOW(syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx));
    SHOW(syscall(SYS_clock_adjtime, 10, &tx));
    SHOW(syscall(SYS_clock_adjtime, 12, &tx));
    SHOW(syscall(SYS_clock_adjtime, 99, &tx));
    SHOW(syscall(SYS_clock_adjtime, -6, &tx));
    SHOW(syscall(SYS_clock_adjtime, -5, &tx));          /* the clock of fd 0: no PTP device */
    SHOW(syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, BADPTR));
    tx.modes = ADJ_FREQUENCY;
    SHOW(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
    return 0;
}
