#!/usr/bin/env bash
# P7: push-local with one enabled webhook to a local receiver at 16 connections: push throughput,
# p99, one delivery per push, and the delivery lag; see run.sh.
exec "$(dirname "$0")/run.sh" p7
