#!/usr/bin/env bash
# P4 and P5 (login throughput against the hash ceiling, and the freeze test); see run.sh.
exec "$(dirname "$0")/run.sh" p4 p5
