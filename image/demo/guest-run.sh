#!/bin/bash
# Runs in the VM as /job/run.sh for image/run-demo: imports (or on first boot creates) the
# demo pool `tank` on the VM's disks with some files and snapshots, starts wizfsd on port
# 8080 (forwarded to the host's loopback) and gives the console a shell. With /job/smoke
# present (image/run-demo --smoke) it waits for the host to check the console instead.
export PATH=/job/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
modprobe zfs || { echo "FATAL: modprobe zfs failed"; exit 100; }
if zpool import -f tank 2>/dev/null; then
  echo "demo: imported pool tank"
else
  echo "demo: creating pool tank (mirror of vdb and vdc) with demo data"
  zpool create -f -o ashift=12 -O compression=lz4 -O atime=off tank mirror /dev/vdb /dev/vdc || exit 100
  zfs create tank/home
  zfs create tank/home/alice
  zfs create tank/media
  mkdir -p /tank/home/alice/Documents /tank/media/Videos
  echo "Shopping list: milk, bread" > /tank/home/alice/Documents/notes.txt
  head -c 2000000 /dev/urandom > /tank/media/Videos/holiday.bin
  zfs snapshot -r tank@demo-1
  echo "Shopping list: milk, bread, coffee" > /tank/home/alice/Documents/notes.txt
  echo "Draft report" > /tank/home/alice/Documents/report.txt
  zfs snapshot -r tank@demo-2
  rm /tank/home/alice/Documents/report.txt
fi
mkdir -p /var/lib/wizfs
# A login shell resets PATH: put the CLI where it looks.
ln -sf /job/bin/wizfs /job/bin/wizfsd /usr/local/bin/
wizfsd --listen 0.0.0.0:8080 > /job/out/wizfsd.log 2>&1 &
WIZFSD=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
cat <<BANNER

  WiZFS demo appliance is up (OpenZFS $(zfs version | head -1 | sed 's/^zfs-//')).
  Console (health page for now): http://127.0.0.1:${WIZFS_HOST_PORT:-8080}/healthz on the host.
  Try here:  wizfs pool list   wizfs snapshot list -r tank   wizfs diff tank/home/alice@demo-2
  Leave with 'exit' (the VM powers off, the pool is kept for the next boot).

BANNER
if [ -f /job/smoke ]; then
  echo "demo: smoke mode, waiting for the host's check"
  for _ in $(seq 600); do [ -f /job/out/smoke-done ] && break; sleep 0.5; done
else
  cd /root && setsid -c bash -l
fi
kill "$WIZFSD" 2>/dev/null; wait "$WIZFSD" 2>/dev/null
zpool export tank
exit 0
