#!/bin/bash
# Runs in the test VM (as /job/run.sh, see `tests/vm/run --capture-fixtures`): builds a
# known layout on a scratch pool and records the output of every zfs/zpool command that
# app/zfs parses, into /job/out/fixtures/openzfs-<version>/. The parser tests in
# app/zfs/src/parse/tests.rs assert exactly this layout, so change both together.
# Column lists must match the *_COLUMNS constants of app/zfs/src/parse.rs.
set -euo pipefail
export LC_ALL=C TZ=UTC
modprobe zfs
VERSION=$(zfs version | head -1 | sed -E 's/^zfs-([0-9]+\.[0-9]+\.[0-9]+).*/\1/')
OUT=/job/out/fixtures/openzfs-$VERSION
mkdir -p "$OUT"
echo "capturing fixtures of OpenZFS $VERSION into $OUT"

zpool create -f -o ashift=12 -O compression=lz4 -O atime=off wzfix /dev/vdb
zfs create wzfix/data
zfs create wzfix/data/child
zfs create "wzfix/data/with space"
zfs create -V 16M wzfix/vol
D=/wzfix/data
echo original > $D/modified.txt
echo doomed > $D/deleted.txt
echo moving > $D/before-rename.txt
head -c 1048576 /dev/urandom > $D/child/big.bin
zfs snapshot -r wzfix/data@s1
rm $D/child/big.bin
zfs snapshot wzfix/data/child@s2
echo changed >> $D/modified.txt
rm $D/deleted.txt
mv $D/before-rename.txt "$D/renamed-ä.txt"
echo spaced > "$D/name with space.txt"
printf 'nl\n' > "$D/new
line"
echo latin1 > "$D/$(printf 'latin1-\351t\351')"
echo long > "$D/$(printf 'x%.0s' $(seq 255))"
ln -s modified.txt $D/link
mkdir $D/newdir
zfs snapshot wzfix/data@s2
zfs snapshot wzfix/data@empty
zfs bookmark wzfix/data@s1 'wzfix/data#s1'
zfs hold wizfs:keep wzfix/data@s1
zfs set "wizfs:note=tab	here" wzfix/data
zfs set wizfs:managed=nightly wzfix/data@s2

zfs version > "$OUT/zfs-version.txt"
zpool list -H -p -o name,guid,size,allocated,free,fragmentation,capacity,health,readonly > "$OUT/zpool-list.txt"
zfs list -H -p -t filesystem,volume -o name,guid,type,used,available,referenced,mountpoint,mounted,createtxg,creation -r wzfix > "$OUT/zfs-list-datasets.txt"
zfs list -H -p -t snapshot -o name,guid,createtxg,creation,used,referenced,written,userrefs -s createtxg -r wzfix > "$OUT/zfs-list-snapshots.txt"
zfs list -H -p -t snapshot -o name,guid,createtxg,creation,used,referenced,written,userrefs,wizfs:managed -s createtxg -r wzfix > "$OUT/zfs-list-snapshots-managed.txt"
zfs list -H -p -t bookmark -o name,guid,createtxg,creation -s createtxg -d 1 wzfix/data > "$OUT/zfs-list-bookmarks.txt"
zfs get -H -p -o name,property,value,source used,compression,mountpoint,wizfs:note,receive_resume_token,wizfs:unset wzfix/data > "$OUT/zfs-get.txt"
zfs holds -H wzfix/data@s1 > "$OUT/zfs-holds.txt"
zfs diff -H -F -t wzfix/data@s1 wzfix/data@s2 > "$OUT/zfs-diff.txt"
zfs destroy -n -v -p wzfix/data/child@s1,s2 > "$OUT/zfs-destroy-nvp.txt"
zfs send -n -v -P -i @s1 wzfix/data@s2 > "$OUT/zfs-send-nvP.txt"

# An interrupted resumable receive: half of a full stream, then the token's estimate.
zfs send wzfix/data@s2 > /tmp/full.stream
head -c $(( $(stat -c %s /tmp/full.stream) / 2 )) /tmp/full.stream > /tmp/half.stream
zfs receive -s -u wzfix/copy < /tmp/half.stream 2>/dev/null && { echo "truncated receive succeeded?"; exit 1; }
TOKEN=$(zfs get -H -o value receive_resume_token wzfix/copy)
zfs send -n -v -P -t "$TOKEN" > "$OUT/zfs-send-resume-nvP.txt"
zfs receive -A wzfix/copy

# stderr of failures, as "expected-class<TAB>command<TAB>stderr" (one line each)
record_error() {
  local expected=$1; shift
  local stderr
  if stderr=$("$@" 2>&1 >/dev/null); then echo "expected '$*' to fail"; exit 1; fi
  printf '%s\t%s\t%s\n' "$expected" "$*" "$(echo "$stderr" | tr '\n\t' '  ')" >> "$OUT/errors.txt"
}
: > "$OUT/errors.txt"
record_error not-found zfs list -H wzfix/nope
record_error not-found zpool list -H nopool
record_error not-found zfs release wizfs:nothere wzfix/data@s1
record_error exists zfs snapshot wzfix/data@s1
record_error exists zfs hold wizfs:keep wzfix/data@s1
record_error exists zfs create wzfix/data
record_error busy zfs destroy wzfix/data@s1
record_error not-found zfs destroy wzfix/data@nope
record_error not-found zfs send wzfix/data@nope
record_error exists zfs receive wzfix/data < /tmp/full.stream
record_error dependents zfs destroy wzfix/data/child
record_error failed zfs rename wzfix/data@s1 wzfix/other@s1
zfs release wizfs:keep wzfix/data@s1

# zpool status: never scrubbed; a mirror after a clean scrub; degraded; checksum errors
# found and repaired by a scrub after one side was overwritten behind ZFS's back.
zpool status -p wzfix > "$OUT/zpool-status-unscrubbed.txt"
zpool create -f -o ashift=12 wzst mirror /dev/vdc /dev/vdd
head -c 67108864 /dev/urandom > /wzst/data.bin
zpool sync wzst
wait_scrub() { while zpool status wzst | grep -q 'scrub in progress'; do sleep 1; done; }
zpool scrub wzst; wait_scrub
zpool status -p wzst > "$OUT/zpool-status-scrubbed.txt"
zpool offline wzst /dev/vdd
zpool status -p wzst > "$OUT/zpool-status-degraded.txt"
zpool online wzst /dev/vdd
zpool clear wzst
sleep 2
# The file's own blocks, where zdb says they are (its L0 block pointers, vdev:offset:asize in
# hex, offsets past the 4 MiB of labels and boot area at the front of the partition ZFS made):
# 2.1 writes each object through one of four allocators, each with a metaslab of its own, so
# a fixed stretch of the disk may hold none of the file. Adjacent blocks go in one dd.
start=-1 end=-1
overwrite() {
  if [ "$start" -ge 0 ]; then
    dd if=/dev/urandom of=/dev/vdd1 bs=4096 seek=$(( (4194304 + start) / 4096 )) \
      count=$(( (end - start) / 4096 )) conv=notrunc status=none
  fi
}
# (`wzst/` is the root file system; `wzst` alone would be the pool's meta-object set. The VM
# has no /dev/fd, so no process substitution.)
BLOCKS=$(zdb -ddddd wzst/ "$(stat -c %i /wzst/data.bin)" | awk '$2 == "L0" { print $3 }')
while IFS=: read -r _ offset size; do
  [ -n "$offset" ] || continue
  offset=$((16#$offset)) size=$((16#$size))
  if [ "$offset" = "$end" ]; then end=$((offset + size)); else overwrite; start=$offset end=$((offset + size)); fi
done <<< "$BLOCKS"
[ "$start" -ge 0 ] || { echo "zdb listed no blocks of /wzst/data.bin"; exit 1; }
overwrite
sync
zpool scrub wzst; wait_scrub
zpool status -p wzst > "$OUT/zpool-status-repaired.txt"
zpool destroy wzst
zpool destroy wzfix
chmod -R a+rX /job/out/fixtures
ls -l "$OUT"
echo "fixtures captured"
