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
mkdir -p /var/lib/wizfs /etc/wizfs
# A second pool for the demo's backup job, on a file (a USB disk on a real appliance).
mkdir -p /var/lib/wizfs-demo
if ! zpool import -d /var/lib/wizfs-demo backup 2>/dev/null; then
  truncate -s 256M /var/lib/wizfs-demo/backup.img
  zpool create -f -O compression=lz4 backup /var/lib/wizfs-demo/backup.img || exit 100
fi
zfs list backup/wizfs >/dev/null 2>&1 || zfs create backup/wizfs
# A login shell resets PATH: put the CLI where it looks.
ln -sf /job/bin/wizfs /job/bin/wizfsd /usr/local/bin/
# The console over HTTPS (self-signed certificate made on this first start) on all
# interfaces, announced with mDNS.
cat > /etc/wizfs/wizfsd.toml <<CONFIG
listen = "0.0.0.0:8080"
[console]
site_dir = "/job/site"
hostname = "wizfs-demo"

# Alice's files every hour, kept 24 hours, a week of days and a month of weeks; nothing
# taken when nothing was written.
[[policy]]
id = "alice"
dataset = "tank/home/alice"
hourly = 24
daily = 7
weekly = 4
skip_empty = true

# Alice's files to the second pool every day; it keeps a week of days.
[[backup]]
id = "offsite"
schedule = "daily"

[[backup.source]]
dataset = "tank/home/alice"

[backup.target]
type = "pool"
dataset = "backup/wizfs"

[backup.retention]
daily = 7
CONFIG
if [ -f /job/smoke ]; then
  # A file of its own to find and restore: created, snapshotted, deleted (the pool persists
  # between runs, so each run makes a new one).
  stamp=$(date +%Y%m%d%H%M%S)
  file=/tank/home/alice/Documents/minutes-$stamp.txt
  echo "Minutes of $stamp" > "$file"
  # And one an old client wrote in Latin-1 (é as the single byte 0xE9): not UTF-8.
  legacy=$(printf '/tank/home/alice/Documents/caf\351-%s.txt' "$stamp")
  echo "Latin-1 of $stamp" > "$legacy"
  # And a hostile picture someone with write access to the share left: previewing it must not
  # run its script, which would create a snapshot with the administrator's session.
  cat > "/tank/home/alice/Documents/invoice-$stamp.svg" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" onload="attack()">
<rect width="120" height="40" fill="#c33"/>
<script>
function attack() {
  fetch('/api/v1/session').then(r => r.json()).then(s => fetch('/api/v1/snapshots', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token}, body: JSON.stringify({dataset: 'tank/home/alice', name: 'pwned-$stamp'})}));
}
</script>
</svg>
SVG
  zfs snapshot tank/home/alice@smoke-$stamp
  rm "$file" "$legacy" "/tank/home/alice/Documents/invoice-$stamp.svg"
  printf 'dataset=tank/home/alice\npath=Documents/minutes-%s.txt\ncontent=Minutes of %s\nstamp=%s\nsvg=Documents/invoice-%s.svg\n' "$stamp" "$stamp" "$stamp" "$stamp" > /job/out/console-scenario.env
fi
wizfsd > /job/out/wizfsd.log 2>&1 &
WIZFSD=$!
for _ in $(seq 300); do curl -skf https://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
cp /var/lib/wizfs/tls/console.crt /job/out/console.crt 2>/dev/null
cat <<BANNER

  WiZFS demo appliance is up (OpenZFS $(zfs version | head -1 | sed 's/^zfs-//')).
  Console: https://127.0.0.1:${WIZFS_HOST_PORT:-8080}/ on the host (self-signed certificate;
  first visit sets the admin password).
  Try here:  wizfs pool list   wizfs snapshot list -r tank   wizfs diff tank/home/alice@demo-2
  Leave with 'exit' (the VM powers off, the pool is kept for the next boot).

BANNER
if [ -f /job/smoke ]; then
  echo "demo: smoke mode, waiting for the host's check"
  # The release daemon's memory once idle: its first health round, index reconciliation and
  # schedules have run, nobody has signed in yet (docs/health.md, "Memory").
  memory() {
    local rss anon
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$WIZFSD/status")
    anon=$(awk '/^Anonymous:/ {print $2}' "/proc/$WIZFSD/smaps_rollup")
    echo "$1: RSS $rss kB (anonymous $anon kB, files $((rss - anon)) kB)" >> /job/out/wizfsd-memory
  }
  sleep 60
  memory "idle 60 s after start"
  # The announcement, as a LAN client sees it.
  wizfs --json discover --seconds 4 > /job/out/discover.json 2> /job/out/discover.err
  for _ in $(seq 2400); do
    [ -f /job/out/smoke-done ] && break
    if [ -f /job/out/console-verify-request ] && [ ! -f /job/out/console-verified ]; then
      # What the CLI sees after the browser restored the file in place.
      path=$(head -1 /job/out/console-verify-request)
      wizfs cat "/tank/home/alice/$path" > /job/out/console-file 2>&1
      wizfs --json snapshot list tank/home/alice > /job/out/console-snapshots.json 2>&1
      touch /job/out/console-verified
    fi
    sleep 0.5
  done
  # And after the browser session.
  memory "after the browser tests"
  # And once freed memory has gone back to the kernel (app/wizfsd/src/memory.rs).
  sleep 35
  memory "35 s after the browser tests"
else
  cd /root && setsid -c bash -l
fi
kill "$WIZFSD" 2>/dev/null; wait "$WIZFSD" 2>/dev/null
zpool export tank
zpool export backup
exit 0
