#!/usr/bin/env bash
# Records what licagent's Linux collector reads on this machine as a test manifest
# (format: tests/platform/sysfs_fixture.h). The manifest holds RAW serials and MACs: record
# only machines whose owner agrees, and review the output before committing it.
# Usage: scripts/record-sysfs.sh > tests/data/sysfs/NAME.manifest
set -euo pipefail

emit_file() {  # emit_file PATH: a readable file, or "denied" for one that exists but is not
  local p=$1
  [ -e "$p" ] || return 0
  if [ -r "$p" ] && value=$(cat "$p" 2>/dev/null); then
    printf 'file %s %s\n' "$p" "$(printf '%s' "$value" | sed 's/\\/\\\\/g' | sed ':a;N;$!ba;s/\n/\\n/g')"
  else
    printf 'denied %s\n' "$p"
  fi
}
emit_link() { [ -L "$1" ] && printf 'link %s %s\n' "$1" "$(readlink "$1")" || true; }

echo "# recorded $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/record-sysfs.sh"
if [ -d /sys/class/dmi/id ]; then
  echo "dir /sys/class/dmi/id"
  for f in sys_vendor product_name product_version board_vendor bios_vendor chassis_vendor \
           chassis_asset_tag board_asset_tag product_uuid board_serial product_serial chassis_serial; do
    emit_file /sys/class/dmi/id/$f
  done
fi
for n in /sys/class/net/*; do
  emit_link "$n"
  case "$(readlink "$n")" in */devices/virtual/*) continue ;; esac
  emit_link "$n/device"
  for f in type addr_assign_type address; do emit_file "$n/$f"; done
  [ -e "$n/device/physfn" ] && echo "dir $n/device/physfn"
  if command -v ethtool >/dev/null && perm=$(ethtool -P "${n##*/}" 2>/dev/null); then
    printf 'permaddr %s %s\n' "${n##*/}" "${perm##* }"
  fi
done
for b in /sys/block/*; do
  emit_link "$b"
  case "$(readlink "$b")" in */devices/virtual/*) continue ;; esac
  for f in removable dev serial device/serial; do emit_file "$b/$f"; done
  [ -r "$b/device/vpd_pg80" ] && printf 'hex %s %s\n' "$b/device/vpd_pg80" "$(od -An -tx1 -v "$b/device/vpd_pg80" | tr -d ' \n')"
  for part in "$b"/"${b##*/}"*; do
    [ -e "$part/partition" ] || continue
    emit_link "/sys/class/block/${part##*/}"
    echo "file /sys/class/block/${part##*/}/partition $(cat "$part/partition")"
  done
done
root_dev=$(stat -c '%d' /)
rootdev="$((root_dev >> 8 & 0xfff)):$(((root_dev & 0xff) | (root_dev >> 12 & 0xfff00)))"
echo "rootdev $rootdev"
emit_link "/sys/dev/block/$rootdev"
emit_file "/run/udev/data/b$rootdev"
[ -d /dev/disk/by-uuid ] && for u in /dev/disk/by-uuid/*; do emit_link "$u"; done
printf 'rootfs %s %s %s\n' "$(stat -f -c '%t' /)" "$(stat -f -c '%i' / | cut -c1-8)" "$(stat -f -c '%i' / | cut -c9-16)"
emit_file /etc/machine-id
for f in /sys/hypervisor/type /run/host/container-manager /run/systemd/container; do emit_file "$f"; done
for f in /run/.containerenv /.dockerenv; do [ -e "$f" ] && echo "file $f "; done
emit_file /proc/sys/kernel/osrelease
vendor=$(awk -F': ' '/^vendor_id/{print $2; exit}' /proc/cpuinfo)
family=$(awk -F': ' '/^cpu family/{print $2; exit}' /proc/cpuinfo)
model=$(awk -F': ' '/^model\t/{print $2; exit}' /proc/cpuinfo)
stepping=$(awk -F': ' '/^stepping/{print $2; exit}' /proc/cpuinfo)
brand=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
hv=-; grep -qw hypervisor /proc/cpuinfo && hv=hypervisor
echo "cpuid $vendor|$family|$model|$stepping|$brand|0|0|$hv"
