#!/usr/bin/env bash
# P3 and P6 (GET item over 1k and 100k items, POST local item, each beside pgbench); see run.sh.
exec "$(dirname "$0")/run.sh" p3 p6
