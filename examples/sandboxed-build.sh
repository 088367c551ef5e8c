#!/bin/sh
# A build in the sandbox: make writes its objects into the source directory,
# which is the host's, yet the host is left as it was. The copy-on-write
# overlay of / keeps every change in memory, and it goes with the sandbox.
set -e
cd "$(dirname "$0")/hello"
pylinuxabi run sh -c 'make -s && ./hello && ls hello hello.o'
if [ -e hello ] || [ -e hello.o ]; then
    echo "the host changed: $(ls)" >&2
    exit 1
fi
echo "host untouched: $(ls | tr '\n' ' ')"
