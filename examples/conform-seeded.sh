#!/bin/sh
# conform on a program with a seeded divergence: a fault injected into the
# model's run only makes its openat of /etc/hostname fail, and conform names
# that call as the first place where the two runs differ (exit status 1).
pylinuxabi conform --inject 'openat:error=EACCES:path=/etc/hostname' -- cat /etc/hostname
