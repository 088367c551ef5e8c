#!/bin/sh
# A server in the sandbox reached from the host with -p, as docker's: Python's
# http.server listens on the sandbox's port 8000, published at the host's 18080.
set -e
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
echo "served from the sandbox" > "$dir/index.html"
pylinuxabi run -p 127.0.0.1:18080:8000 -v "$dir:/srv:ro" -w /srv python3 -m http.server 8000 >/dev/null 2>&1 &
server=$!
for i in $(seq 50); do
    if curl -s http://127.0.0.1:18080/index.html; then exit 0; fi
    sleep 0.2
done
echo "the published port never answered" >&2
exit 1
