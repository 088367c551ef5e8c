#!/bin/sh
# Fault injection exposing an unchecked write error: with the first write to a
# regular file failing with ENOSPC, the program still says it saved its record,
# and the record is empty. A program that checks fclose would have said so.
set -e
cd "$(dirname "$0")"
bin=$(mktemp -d)/unchecked-write
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -o "$bin" unchecked-write.c
pylinuxabi run -v "$(dirname "$bin"):/w" --inject 'write:error=ENOSPC:fd=file:when=1' \
    sh -c '/w/unchecked-write /tmp/record.txt; echo "the record holds $(wc -c < /tmp/record.txt) bytes"' | cat
# (| cat: the sandbox's stdout a pipe, so that its writes are not to a regular file)
