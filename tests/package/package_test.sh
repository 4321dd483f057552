#!/usr/bin/env bash
# The Linux packages end to end (docs/integration.md "Tests"): builds the .deb, .rpm and .tar.gz
# from an existing build directory with CPack, inspects them, runs lintian, and, as root,
# installs the .debs on this machine: install-time activation against a real licagent-server
# (and with the server down), a user's check of the machine-wide license, the consumer project
# built against the installed development package (CMake and pkg-config), debconf preseeding,
# remove (keeps the license), purge (deletes it) and deactivation on removal. Then the same for
# the .rpms, installed with rpm into a database of the test's own: %post activation, a
# reinstall that keeps the license, the consumer against the -devel rpm, erase (deletes the
# license) and deactivation on erase.
# Usage: tests/package/package_test.sh BUILD_DIR
#   BUILD_DIR is a configured and built tree with licagent-server and licagent-vendor (the
#   ci-gcc preset: its LICAGENT_ALLOW_KEY_FILE lets the installed agent trust a test key).
# Prints one line per case and a ctest-style summary ("N% tests passed, F tests failed out of
# T"), which scripts/test.sh adds to its total. Without root the install cases are skipped
# (and not counted); CI runs as root.
set -uo pipefail
umask 022  # the unprivileged user runs what this test builds
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
chmod 0755 "$tmp"  # the unprivileged user reads the test's trusted key file in here
pkg=$(sed -n 's/^LICAGENT_PACKAGE_NAME:STRING=//p' "$build/CMakeCache.txt")
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
agent=$build/agent/cli/licagent
vendor=$build/server/licagent-vendor
server=$build/server/licagent-server
state=/var/lib/licagent
export LICAGENT_NO_BACKGROUND_REFRESH=1 DEBIAN_FRONTEND=noninteractive

passed=0 failed=0 skipped=0
broken=  # the first failed case: later cases depend on its state and are not run
server_pid=
installed_here=0   # .debs
rpm_installed=0    # .rpms

log() { printf '  %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; return 1; }
# run_case NAME FUNCTION: one counted case.
run_case() {
  local name=$1 fn=$2
  if [ -n "$broken" ]; then
    echo "package:$name ... FAILED (not run: $broken failed)"
    failed=$((failed + 1))
    return
  fi
  local start=$SECONDS
  echo "package:$name ..."
  if "$fn" >"$tmp/case.log" 2>&1; then
    sed 's/^/    /' "$tmp/case.log"
    echo "package:$name ... passed ($((SECONDS - start)) s)"
    passed=$((passed + 1))
  else
    sed 's/^/    /' "$tmp/case.log"
    echo "package:$name ... FAILED ($((SECONDS - start)) s)"
    failed=$((failed + 1))
    broken=$name
  fi
}
skip_case() {
  echo "package:$1 ... skipped: $2"
  skipped=$((skipped + 1))
}

# rpm, for every rpm command of the test, with a database of the test's own: Debian's rpm keeps
# its default database in the invoking user's home (/root/.rpmdb, `rpm --eval %_dbpath`), so
# the test installs nothing into that one, cannot meet another run's packages, and `rpm -qa`
# lists exactly what it installed.
# --force-debian only silences Debian's warning that rpm should not install packages (its
# README.Debian: "use alien"). Installs also need --nodeps: the rpm database knows none of
# Debian's packages, so rpm would refuse every Requires (libc.so.6, libsodium.so.23, /bin/sh).
rpm_run() { rpm --dbpath "$tmp/rpmdb" --force-debian "$@"; }

# dpkg, waiting (bounded) while another dpkg or apt holds the lock. Without fsyncs while it
# unpacks (--force-unsafe-io): this machine is not meant to survive a power loss mid-test.
dpkg_run() {
  local i out rc
  for i in $(seq 60); do
    out=$(dpkg --force-unsafe-io "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] && grep -Eq 'frontend lock|lock-frontend|database is locked' <<<"$out" &&
      [ "$i" -lt 60 ]; then
      sleep 2
      continue
    fi
    printf '%s\n' "$out"
    return "$rc"
  done
}

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid=
}
cleanup() {
  stop_server
  if [ "$installed_here" = 1 ]; then  # leave the machine as it was, whatever failed
    dpkg_run --purge "$pkg-dev" "$pkg" >/dev/null 2>&1
  fi
  if [ "$rpm_installed" = 1 ]; then
    rpm_run -e --nodeps "$pkg-devel" "$pkg" >/dev/null 2>&1 ||
      rpm_run -e --nodeps "$pkg" >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

debs() { ls "$build"/packages/"$1"_"$version"_*.deb; }
rpms() { ls "$build/packages/$1-$version"-*.rpm; }

# --- cases that need no privileges -----------------------------------------------------------

case_build() {
  rm -rf "$build/packages"
  (cd "$build" && cpack -G "DEB;RPM;TGZ" -B "$build/packages") >"$tmp/cpack.log" 2>&1 ||
    { cat "$tmp/cpack.log"; fail "cpack"; } || return 1
  local f
  for f in "$build"/packages/*.deb "$build"/packages/*.rpm "$build"/packages/*.tar.gz; do
    echo "built ${f##*/}"
  done
  debs "$pkg" >/dev/null && debs "$pkg-dev" >/dev/null || fail "no .deb"
  ls "$build/packages/$pkg-$version"-*.rpm "$build/packages/$pkg-devel-$version"-*.rpm \
    "$build/packages/$pkg-$version"-*.tar.gz >/dev/null || fail "no .rpm or .tar.gz"
}

# has LIST REGEX...: every REGEX matches a line of the file LIST.
has() {
  local list=$1 re
  shift
  for re in "$@"; do
    grep -Eq -- "$re" "$list" || { fail "$list has no line matching $re"; return 1; }
  done
}
hasnt() {
  local list=$1 re
  shift
  for re in "$@"; do
    ! grep -Eq -- "$re" "$list" || { fail "$list unexpectedly matches $re"; return 1; }
  done
}

case_deb_contents() {
  local rt dev
  rt=$(debs "$pkg") dev=$(debs "$pkg-dev")
  dpkg-deb -c "$rt" | awk '{print $6}' >"$tmp/rt.list"
  dpkg-deb -c "$dev" | awk '{print $6}' >"$tmp/dev.list"
  has "$tmp/rt.list" '^\./usr/bin/licagent$' '^\./usr/lib/liblicagent\.so\.0$' \
    "^\./usr/lib/liblicagent\.so\.$version\$" "^\./usr/share/doc/$pkg/copyright\$" \
    "^\./usr/share/doc/$pkg/changelog\.gz\$" || return 1
  hasnt "$tmp/rt.list" '^\./usr/lib/liblicagent\.so$' '^\./usr/include' '\.a$' || return 1
  has "$tmp/dev.list" '^\./usr/include/licagent/check\.h$' '^\./usr/include/licagent/licagent\.h$' \
    '^\./usr/lib/liblicagent\.a$' '^\./usr/lib/liblicagent\.so$' \
    '^\./usr/lib/cmake/licagent/licagentConfig\.cmake$' \
    '^\./usr/lib/cmake/licagent/licagentConfigVersion\.cmake$' \
    '^\./usr/lib/cmake/licagent/licagentTargets\.cmake$' '^\./usr/lib/pkgconfig/licagent\.pc$' \
    "^\./usr/share/doc/$pkg-dev/copyright\$" || return 1
  hasnt "$tmp/dev.list" '^\./usr/bin/' '\.so\.0' || return 1
  dpkg-deb -I "$rt" >"$tmp/rt.info"
  has "$tmp/rt.info" 'Depends:.*libsodium23' 'Depends:.*debconf' 'Section: utils' \
    'Priority: optional' ' postinst$| postinst ' ' templates' ' config' ' shlibs' || return 1
  dpkg-deb -I "$dev" >"$tmp/dev.info"
  has "$tmp/dev.info" "Depends:.*$pkg \\(= $version\\)" 'Section: libdevel' || return 1
  # SONAME, and no RPATH/RUNPATH in what is installed.
  mkdir -p "$tmp/x" && dpkg-deb -x "$rt" "$tmp/x"
  readelf -d "$tmp/x/usr/lib/liblicagent.so.$version" >"$tmp/so.dyn"
  has "$tmp/so.dyn" 'SONAME.*\[liblicagent\.so\.0\]' || return 1
  readelf -d "$tmp/x/usr/bin/licagent" >>"$tmp/so.dyn"
  hasnt "$tmp/so.dyn" 'RPATH|RUNPATH' || return 1
  log "runtime: $(wc -l <"$tmp/rt.list") entries, development: $(wc -l <"$tmp/dev.list")"
}

case_rpm_contents() {
  local rt dev
  rt=$(rpms "$pkg") dev=$(rpms "$pkg-devel")
  rpm_run -qpl "$rt" >"$tmp/rrt.list" 2>/dev/null &&
    rpm_run -qpl "$dev" >"$tmp/rdev.list" 2>/dev/null || fail "rpm -qpl" || return 1
  has "$tmp/rrt.list" '^/usr/bin/licagent$' '^/usr/lib/liblicagent\.so\.0$' || return 1
  has "$tmp/rdev.list" '^/usr/include/licagent/check\.h$' '^/usr/lib/liblicagent\.so$' \
    '^/usr/lib/cmake/licagent/licagentConfig\.cmake$' '^/usr/lib/pkgconfig/licagent\.pc$' || return 1
  hasnt "$tmp/rrt.list" '^/usr/lib/cmake$' '^/usr/share/doc$' '^/usr/lib$' || return 1
  rpm_run -qp --scripts "$rt" >"$tmp/rrt.scripts" 2>/dev/null
  has "$tmp/rrt.scripts" '^postinstall scriptlet' 'licagent_activate key "\$LICAGENT_KEY"' \
    '^preuninstall scriptlet' '^postuninstall scriptlet' 'licagent_purge_state' || return 1
  rpm_run -qp --requires "$dev" >"$tmp/rdev.req" 2>/dev/null
  has "$tmp/rdev.req" "^$pkg = $version" || return 1
  # The scriptlets are valid sh (rpm runs them with /bin/sh).
  awk '/^postinstall scriptlet/{f=1;next} /scriptlet \(using/{f=0} f' "$tmp/rrt.scripts" >"$tmp/post.sh"
  sh -n "$tmp/post.sh" || fail "the %post scriptlet is not valid sh" || return 1
  log "runtime: $(wc -l <"$tmp/rrt.list") paths, development: $(wc -l <"$tmp/rdev.list")"
}

case_tgz_contents() {
  tar -tzf "$build/packages/$pkg-$version"-*.tar.gz >"$tmp/tgz.list" || fail "tar" || return 1
  has "$tmp/tgz.list" '/bin/licagent$' '/lib/liblicagent\.so\.0$' '/lib/liblicagent\.a$' \
    '/include/licagent/check\.h$' '/lib/cmake/licagent/licagentConfig\.cmake$' \
    '/lib/pkgconfig/licagent\.pc$' || return 1
}

case_lintian() {
  # No errors; warnings are printed (docs/integration.md lists the ones left and why).
  lintian --fail-on error --tag-display-limit 0 "$(debs "$pkg")" "$(debs "$pkg-dev")" 2>&1 |
    tee "$tmp/lintian.log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || fail "lintian reports errors (exit $rc)"
}

# --- cases that install on this machine (root) -------------------------------------------------

# A vendor key the installed agent trusts (LICAGENT_TRUSTED_KEYS_FILE), a test CA, and a
# licagent-server with a license key for this product.
setup_server() {
  "$vendor" keygen --key-id pkg-test --out "$tmp/vendor" >/dev/null || fail "keygen" || return 1
  chmod 0644 "$tmp/vendor.pub"
  bash "$src/tests/tls/make-test-pki.sh" "$tmp/pki" >/dev/null || fail "test PKI" || return 1
  chmod 0755 "$tmp/pki" && chmod 0644 "$tmp/pki/ca.crt"
  local product
  product=$("$agent" --version | sed -n 's/.*(product \(.*\))$/\1/p')
  mkdir -p "$tmp/server"
  cat >"$tmp/server/server.json" <<JSON
{"listen": "127.0.0.1:0",
 "tls": {"certificate": "$tmp/pki/server.crt", "private_key": "$tmp/pki/server.key"},
 "signing_key": {"file": "$tmp/vendor.pem", "key_id": "pkg-test"},
 "storage": {"kind": "sqlite", "path": "$tmp/server/licagent.db"},
 "products": [{"id": "$product", "default_validity_days": 30, "grace_days": 7, "seats": 2}]}
JSON
  "$server" --config "$tmp/server/server.json" credential create --product "$product" \
    --customer "package test" --feature export >"$tmp/key" || fail "credential create" || return 1
}
start_server() {
  rm -f "$tmp/server/port"
  "$server" --config "$tmp/server/server.json" serve --port-file "$tmp/server/port" \
    >>"$tmp/server/access.log" 2>>"$tmp/server/server.err" &
  server_pid=$!
  local i
  for i in $(seq 100); do [ -s "$tmp/server/port" ] && break; sleep 0.1; done
  [ -s "$tmp/server/port" ] || { cat "$tmp/server/server.err"; fail "the server did not start"; }
}
url() { echo "https://127.0.0.1:$(cat "$tmp/server/port")"; }
# installer_env TOOL VAR=VALUE... -- ARGS...: TOOL (dpkg_run, rpm_run) with the environment an
# installer gives it, plus the test build's trusted key file (a production build has the key
# compiled in instead).
installer_env() {
  (
    export LICAGENT_TRUSTED_KEYS_FILE="$tmp/vendor.pub" LICAGENT_CA_BUNDLE="$tmp/pki/ca.crt"
    local tool=$1
    shift
    while [ "$1" != -- ]; do export "${1?}"; shift; done
    shift
    "$tool" "$@"
  )
}
dpkg_env() { installer_env dpkg_run "$@"; }
rpm_env() { installer_env rpm_run "$@"; }
# As an unprivileged user with no license of their own.
as_nobody() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env -i PATH=/usr/bin:/bin HOME=/nonexistent LICAGENT_NO_BACKGROUND_REFRESH=1 \
    LICAGENT_TRUSTED_KEYS_FILE="$tmp/vendor.pub" "$@"
}
# record_files LIST_COMMAND...: every file the packages installed, from the package manager's
# list (recorded while installed, checked after removal).
record_files() { "$@" | while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done; }
# left_behind FILE_LIST DIR...: fails if a file of FILE_LIST or a DIR still exists.
left_behind() {
  local list=$1 f left=0
  shift
  while read -r f; do
    if [ -e "$f" ] || [ -L "$f" ]; then echo "left behind: $f"; left=1; fi
  done <"$list"
  for f in "$@"; do
    if [ -e "$f" ]; then echo "left behind: $f/"; left=1; fi
  done
  [ "$left" = 0 ]
}

case_install_server_down() {
  setup_server || return 1
  installed_here=1
  # Nothing listens on port 1: the activation fails, the installation does not.
  dpkg_env LICAGENT_KEY="$(cat "$tmp/key")" LICAGENT_SERVER_URL=https://127.0.0.1:1 -- \
    -i "$(debs "$pkg")" >"$tmp/out" 2>&1
  local rc=$?
  cat "$tmp/out"
  [ "$rc" -eq 0 ] || fail "dpkg -i failed ($rc) when the server was down" || return 1
  dpkg -s "$pkg" | grep -q '^Status: install ok installed' || fail "not installed" || return 1
  expect_not_activated "$tmp/out"
}
# expect_not_activated OUTPUT: what an installation with the server down (port 1) printed and
# left: no license, the command to run later, a working installed licagent.
expect_not_activated() {
  has "$1" 'install-time activation failed \(exit code 20' \
    'installed all the same' \
    "licagent:   /usr/bin/licagent activate --system --key YOUR-LICENSE-KEY --server https://127.0.0.1:1 --ca-bundle $tmp/pki/ca.crt" ||
    return 1
  ! grep -q "$(cat "$tmp/key")" "$1" || fail "the license key was printed" || return 1
  [ "$(stat -c %a "$state")" = 755 ] || fail "$state is not 0755" || return 1
  /usr/bin/licagent fingerprint -q >"$tmp/fp" || fail "installed licagent fingerprint" || return 1
  grep -Eq '^HW1-' "$tmp/fp" || fail "no identifier: $(cat "$tmp/fp")" || return 1
  log "installed licagent fingerprint: $(cat "$tmp/fp")"
  local got=0
  /usr/bin/licagent check --system >/dev/null 2>&1 || got=$?
  [ "$got" -eq 10 ] || fail "check --system exited $got, expected 10 (no license)"
}

case_install_time_activation() {
  start_server || return 1
  # Reinstalling the same version runs postinst again, now with the server up.
  dpkg_env LICAGENT_KEY="$(cat "$tmp/key")" LICAGENT_SERVER_URL="$(url)" -- \
    -i "$(debs "$pkg")" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "dpkg -i"; } || return 1
  cat "$tmp/out"
  expect_activated "$tmp/out"
}
# expect_activated OUTPUT: the installation printed an activation, and the machine-wide license
# is valid for root and for an unprivileged user.
expect_activated() {
  has "$1" 'this machine is activated' || return 1
  ! grep -q "$(cat "$tmp/key")" "$1" || fail "the license key was printed" || return 1
  [ "$(stat -c '%a %U' "$state/license.lic")" = "644 root" ] ||
    fail "license.lic is $(stat -c '%a %U' "$state/license.lic"), expected 644 root" || return 1
  LICAGENT_TRUSTED_KEYS_FILE="$tmp/vendor.pub" /usr/bin/licagent check --system --feature export ||
    fail "licagent check --system" || return 1
  # An unprivileged user with no license of their own checks the machine-wide one.
  as_nobody /usr/bin/licagent check --json --feature export >"$tmp/nobody.json" ||
    { cat "$tmp/nobody.json"; fail "licagent check as nobody"; } || return 1
  python3 - "$tmp/nobody.json" <<'PY' || fail "check --json as nobody: $(cat "$tmp/nobody.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "valid" and d["system_scope"] is True, d
PY
  log "as nobody: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verdict"], d["reason"])' "$tmp/nobody.json")"
}

case_consumer_cmake() {
  dpkg_env -- -i "$(debs "$pkg-dev")" ||
    fail "dpkg -i $pkg-dev" || return 1
  consumer_cmake
}
# Builds tests/package/consumer against the installed development package and runs it.
consumer_cmake() {
  rm -rf "$tmp/consumer"
  cmake -S "$src/tests/package/consumer" -B "$tmp/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    >"$tmp/consumer.log" 2>&1 && cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1 ||
    { cat "$tmp/consumer.log"; fail "the consumer does not build against the installed package"; } ||
    return 1
  grep -q '/usr/lib/cmake/licagent' "$tmp/consumer/CMakeCache.txt" ||
    fail "licagent was not found in /usr/lib/cmake" || return 1
  local prog
  for prog in consumer_cpp consumer_c; do
    as_nobody "$tmp/consumer/$prog" export >"$tmp/$prog.out" ||
      { cat "$tmp/$prog.out"; fail "$prog as nobody"; } || return 1
    log "$prog: $(cat "$tmp/$prog.out")"
  done
  grep -q '^valid system ' "$tmp/consumer_cpp.out" || fail "consumer_cpp did not use the machine-wide license"
}

case_consumer_pkgconfig() {
  [ "$(pkg-config --modversion licagent)" = "$version" ] || fail "pkg-config --modversion" || return 1
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Werror -o "$tmp/consumer_pc" "$src/tests/package/consumer/consumer.c" \
    $(pkg-config --cflags --libs licagent) || fail "cc with pkg-config" || return 1
  readelf -d "$tmp/consumer_pc" | grep -q 'NEEDED.*\[liblicagent\.so\.0\]' ||
    fail "not linked to liblicagent.so.0" || return 1
  as_nobody "$tmp/consumer_pc" export >"$tmp/pc.out" || { cat "$tmp/pc.out"; fail "consumer_pc"; } ||
    return 1
  log "pkg-config $(pkg-config --cflags --libs licagent): $(cat "$tmp/pc.out")"
}

case_remove_keeps_license() {
  record_files dpkg -L "$pkg" "$pkg-dev" >"$tmp/files"
  [ -s "$tmp/files" ] || fail "dpkg -L lists nothing" || return 1
  dpkg_run -r "$pkg-dev" "$pkg" || fail "dpkg -r" || return 1
  left_behind "$tmp/files" /usr/include/licagent /usr/lib/cmake/licagent "/usr/share/doc/$pkg" \
    "/usr/share/doc/$pkg-dev" || fail "remove left package files" || return 1
  [ -f "$state/license.lic" ] && [ -f "$state/clock.mark" ] ||
    fail "remove deleted the license cache" || return 1
  dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: deinstall ok config-files' ||
    fail "status after remove: $(dpkg -s "$pkg" 2>&1 | grep Status)" || return 1
  log "after remove: $(ls -A "$state" | tr '\n' ' ')"
}

case_purge_deletes_license() {
  dpkg_run -P "$pkg" || fail "dpkg -P" || return 1
  [ ! -e "$state" ] || fail "purge left $state: $(ls -A "$state")" || return 1
  ! dpkg -s "$pkg" >/dev/null 2>&1 || fail "still known to dpkg after purge" || return 1
  # debconf forgot the package's questions.
  echo "get $pkg/credential" | debconf-communicate "$pkg" >"$tmp/dc" 2>&1
  grep -q "^10 " "$tmp/dc" || fail "debconf still has $pkg/credential: $(cat "$tmp/dc")" || return 1
  local f
  while read -r f; do [ ! -e "$f" ] || fail "left behind after purge: $f" || return 1; done <"$tmp/files"
}

case_debconf_preseed() {
  # No environment credential: the answers come from debconf, as a preseeded installation gives.
  printf '%s\n' "$pkg $pkg/credential password $(cat "$tmp/key")" \
    "$pkg $pkg/server-url string $(url)" | debconf-set-selections || fail "preseed" || return 1
  dpkg_env -- -i "$(debs "$pkg")" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "dpkg -i"; } || return 1
  cat "$tmp/out"
  has "$tmp/out" 'this machine is activated' || return 1
  as_nobody /usr/bin/licagent check || fail "check as nobody after a preseeded install" || return 1
  # The credential was used once and is not kept.
  echo "get $pkg/credential" | debconf-communicate "$pkg" >"$tmp/dc" 2>&1
  [ "$(cat "$tmp/dc")" = "0" ] || [ "$(cat "$tmp/dc")" = "0 " ] ||
    fail "debconf still holds the credential: $(sed 's/ .*/ .../' "$tmp/dc")"
}

case_deactivate_on_purge() {
  dpkg_env LICAGENT_DEACTIVATE=1 LICAGENT_SERVER_URL="$(url)" -- -P "$pkg" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "dpkg -P"; } || return 1
  cat "$tmp/out"
  has "$tmp/out" 'the seat was given back' || return 1
  [ ! -e "$state" ] || fail "purge left $state" || return 1
  expect_seats 'seats and all(s["state"] == "released" for s in seats)' || return 1
  installed_here=0
}
# expect_seats CONDITION: the server's seat list (a Python list `seats`) meets CONDITION.
expect_seats() {
  "$server" --config "$tmp/server/server.json" seat list --json >"$tmp/seats.json" ||
    fail "seat list" || return 1
  python3 -c "import json, sys
seats = json.load(open(sys.argv[1]))
assert $1, seats" "$tmp/seats.json" || fail "seats: $(cat "$tmp/seats.json")"
}

# --- the .rpms, installed with rpm (rpm_run above) after the .debs are purged ------------------

case_rpm_install_server_down() {
  rpm_installed=1  # rpm creates its database in the first transaction
  rpm_env LICAGENT_KEY="$(cat "$tmp/key")" LICAGENT_SERVER_URL=https://127.0.0.1:1 -- \
    -i --nodeps "$(rpms "$pkg")" >"$tmp/out" 2>&1
  local rc=$?
  cat "$tmp/out"
  [ "$rc" -eq 0 ] || fail "rpm -i failed ($rc) when the server was down" || return 1
  rpm_run -q "$pkg" >/dev/null || fail "$pkg is not in the rpm database" || return 1
  # Every path of the file list is on disk as the package has it (size, digest, mode, owner).
  rpm_run -ql "$pkg" >"$tmp/rpm.paths"
  has "$tmp/rpm.paths" '^/usr/bin/licagent$' || return 1
  rpm_run -V --nodeps "$pkg" || fail "rpm -V $pkg: the installed files differ" || return 1
  log "rpm -V: $(wc -l <"$tmp/rpm.paths") paths as packaged"
  expect_not_activated "$tmp/out"
}

case_rpm_install_time_activation() {
  # A reinstall runs %post again, now with the server up.
  rpm_env LICAGENT_KEY="$(cat "$tmp/key")" LICAGENT_SERVER_URL="$(url)" -- \
    --reinstall --nodeps "$(rpms "$pkg")" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "rpm --reinstall"; } || return 1
  cat "$tmp/out"
  expect_activated "$tmp/out"
}

case_rpm_reinstall_keeps_license() {
  # A reinstall is an upgrade for the scriptlets: the old package's %preun and %postun run with
  # $1 = 1, and neither deactivates nor deletes the license, even with LICAGENT_DEACTIVATE=1.
  rpm_env LICAGENT_DEACTIVATE=1 LICAGENT_SERVER_URL="$(url)" -- \
    --reinstall --nodeps "$(rpms "$pkg")" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "rpm --reinstall"; } || return 1
  cat "$tmp/out"
  hasnt "$tmp/out" 'seat|not activated' || return 1
  expect_seats 'any(s["state"] == "active" for s in seats)' || return 1
  as_nobody /usr/bin/licagent check --feature export || fail "check after the reinstall" || return 1
  log "after the reinstall the seat is still active, and $state holds:" \
    "$(find "$state" -mindepth 1 -printf '%f ')"
}

case_rpm_consumer() {
  rpm_env -- -i --nodeps "$(rpms "$pkg-devel")" || fail "rpm -i $pkg-devel" || return 1
  rpm_run -V --nodeps "$pkg-devel" || fail "rpm -V $pkg-devel" || return 1
  consumer_cmake && case_consumer_pkgconfig
}

case_rpm_erase_deletes_license() {
  record_files rpm_run -ql "$pkg" "$pkg-devel" >"$tmp/files"
  [ -s "$tmp/files" ] || fail "rpm -ql lists nothing" || return 1
  rpm_run -e "$pkg-devel" "$pkg" || fail "rpm -e" || return 1
  left_behind "$tmp/files" /usr/include/licagent /usr/lib/cmake/licagent "/usr/share/doc/$pkg" \
    "/usr/share/doc/$pkg-dev" "$state" ||
    fail "erase left files behind" || return 1
  [ -z "$(rpm_run -qa)" ] || fail "still in the rpm database: $(rpm_run -qa)" || return 1
  # Without LICAGENT_DEACTIVATE the seat stays taken.
  expect_seats 'any(s["state"] == "active" for s in seats)' || return 1
  log "erased: the $(wc -l <"$tmp/files") files and $state are gone, the seat is still active"
}

case_rpm_deactivate_on_erase() {
  rpm_env LICAGENT_KEY="$(cat "$tmp/key")" LICAGENT_SERVER_URL="$(url)" -- \
    -i --nodeps "$(rpms "$pkg")" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "rpm -i"; } || return 1
  has "$tmp/out" 'this machine is activated' || return 1
  rpm_env LICAGENT_DEACTIVATE=1 LICAGENT_SERVER_URL="$(url)" -- -e "$pkg" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out"; fail "rpm -e"; } || return 1
  cat "$tmp/out"
  has "$tmp/out" 'the seat was given back' || return 1
  [ ! -e "$state" ] || fail "erase left $state" || return 1
  [ ! -e /usr/bin/licagent ] || fail "erase left /usr/bin/licagent" || return 1
  expect_seats 'seats and all(s["state"] == "released" for s in seats)' || return 1
  rpm_installed=0
}

if ! command -v cpack >/dev/null || ! command -v rpmbuild >/dev/null || ! command -v lintian >/dev/null; then
  echo "package_test: needs cpack, rpmbuild (package rpm) and lintian: bash scripts/deps.sh test" >&2
  exit 1
fi
run_case build case_build
run_case deb-contents case_deb_contents
run_case rpm-contents case_rpm_contents
run_case tgz-contents case_tgz_contents
run_case lintian case_lintian
install_cases=(install-server-down install-time-activation consumer-cmake consumer-pkgconfig
               remove-keeps-license purge-deletes-license debconf-preseed deactivate-on-purge
               rpm-install-server-down rpm-install-time-activation rpm-reinstall-keeps-license
               rpm-consumer rpm-erase-deletes-license rpm-deactivate-on-erase)
why=
if [ "$(id -u)" -ne 0 ]; then
  why="installing packages needs root (CI runs as root)"
elif ! grep -q '^LICAGENT_ALLOW_KEY_FILE:BOOL=ON' "$build/CMakeCache.txt"; then
  why="$build is not built with LICAGENT_ALLOW_KEY_FILE (use the ci-gcc preset)"
elif dpkg -s "$pkg" >/dev/null 2>&1 || dpkg -s "$pkg-dev" >/dev/null 2>&1 || [ -e "$state" ] ||
  [ -e /usr/bin/licagent ]; then
  why="$pkg is installed, or $state or /usr/bin/licagent exists: the test would replace them"
fi
for c in "${install_cases[@]}"; do
  if [ -n "$why" ]; then skip_case "$c" "$why"; else run_case "$c" "case_${c//-/_}"; fi
done

total=$((passed + failed))
echo
echo "$((total ? 100 * passed / total : 0))% tests passed, $failed tests failed out of $total" \
  "(packages; $skipped skipped)"
[ "$failed" -eq 0 ]
