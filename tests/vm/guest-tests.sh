#!/bin/bash
# Runs in the test VM as /job/run.sh (see tests/vm/run): creates the test pools on the VM's
# extra disks, runs every platform test binary in /job/bin/vm_* (or benchmark, bench_*) against them, and destroys
# the pools again. Each binary's output goes to the console and /job/out/<binary>.log.
# Exit status: the number of failed test binaries.
set -u
[ -f /job/prefix.env ] && . /job/prefix.env
PREFIX=${WIZFS_BINARY_PREFIX:-vm_}
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "=== loading zfs at $(uptime_s)s"
modprobe zfs || { echo "FATAL: modprobe zfs failed"; exit 100; }
echo "=== OpenZFS version: $(zfs version | tr '\n' ' ')"
echo "$(zfs version | head -1)" > /job/out/openzfs-version
ls -l /dev/disk/by-id/ | grep -E 'nvme-QEMU|virtio' || true

echo "=== creating test pools at $(uptime_s)s"
zpool create -f -o ashift=12 -O compression=lz4 -O atime=off wzt mirror /dev/vdb /dev/vdc || { echo "FATAL: zpool create wzt"; exit 100; }
zpool create -f -o ashift=12 -O atime=off wzb /dev/vdd || { echo "FATAL: zpool create wzb"; exit 100; }
zpool list -H -o name,size,health

export WIZFS_TEST_POOL=wzt WIZFS_TEST_POOL2=wzb WIZFS_BIN_DIR=/job/bin RUST_BACKTRACE=1
failed=0
for binary in /job/bin/"$PREFIX"*; do
  [ -x "$binary" ] || continue
  name=$(basename "$binary")
  if [ "$PREFIX" != vm_ ] && [ -n "${WIZFS_TEST_FILTER:-}" ] && [[ "$name" != *"$WIZFS_TEST_FILTER"* ]]; then
    continue
  fi
  echo "=== running $name at $(uptime_s)s"
  # shellcheck disable=SC2086
  if [ "$PREFIX" = vm_ ]; then
    "$binary" --test-threads=2 ${WIZFS_TEST_FILTER:-} > "/job/out/$name.log" 2>&1
  else
    "$binary" > "/job/out/$name.log" 2>&1
  fi
  status=$?
  cat "/job/out/$name.log"
  echo "=== $name exit status $status at $(uptime_s)s"
  [ "$status" = 0 ] || failed=$((failed + 1))
done

echo "=== destroying test pools"
zpool destroy -f wzt; zpool destroy -f wzb
exit "$failed"
