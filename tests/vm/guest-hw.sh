#!/bin/bash
# Runs as /job/run.sh in the generic-kernel boot of tests/vm/run (Debian's generic kernel:
# the cloud kernel of the ZFS tests has no I2C). Loads the kernel's i2c-dev and i2c-stub
# (the .ko files travel in /job/modules, built for exactly this kernel) with stub chips at
# 0x48 (LM75), 0x49 (TMP102) and 0x76 (BME280), then runs every /job/bin/hw_* test binary.
# Each binary's output goes to the console and /job/out/<binary>.log.
# Exit status: the number of failed test binaries (100 when the stub cannot be loaded).
set -u
[ -f /job/filter.env ] && . /job/filter.env
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "=== kernel $(uname -r): loading i2c-dev and i2c-stub at $(uptime_s)s"
insmod /job/modules/i2c-dev.ko || { echo "FATAL: insmod i2c-dev"; exit 100; }
insmod /job/modules/i2c-stub.ko chip_addr=0x48,0x49,0x76 || { echo "FATAL: insmod i2c-stub"; exit 100; }
i2cdetect -l

export WIZFS_BIN_DIR=/job/bin RUST_BACKTRACE=1
failed=0
for binary in /job/bin/hw_*; do
  [ -x "$binary" ] || continue
  name=$(basename "$binary")
  echo "=== running $name at $(uptime_s)s"
  # shellcheck disable=SC2086
  "$binary" --test-threads=1 ${WIZFS_TEST_FILTER:-} > "/job/out/$name.log" 2>&1
  status=$?
  cat "/job/out/$name.log"
  echo "=== $name exit status $status at $(uptime_s)s"
  [ "$status" = 0 ] || failed=$((failed + 1))
done
exit "$failed"
