# --- licagent package hooks (installer/linux/hooks.sh), shared by the .deb and .rpm scripts ---
# Everything here reports on stderr (in Debian scripts stdout belongs to debconf) and nothing
# here fails: a failed activation or deactivation must never fail the package operation.

# The machine-wide cache is always the platform's (docs/cache.md "Locations"), whatever the
# environment of the installer says.
unset LICAGENT_STATE_DIR
licagent_state_dir=/var/lib/licagent

# Creates the machine-wide cache 0755 if it is missing: the agent then writes its files 0644,
# readable by every user (the license is signed and holds no secret), while only root can
# change them (docs/cache.md "Permissions"). An existing directory keeps its mode.
licagent_prepare_state() {
  if [ ! -d "$licagent_state_dir" ] && mkdir -p "$licagent_state_dir"; then
    chmod 0755 "$licagent_state_dir" || true
  fi
}

# The command an administrator runs later, with what this installation was told (never the
# credential itself).
licagent_later() {
  _cmd="$licagent_bin activate --system --$1 YOUR-$(echo "$1" | sed 's/key/LICENSE-KEY/;s/code/AUTHORIZATION-CODE/')"
  [ -z "${2:-}" ] || _cmd="$_cmd --server $2"
  [ -z "${LICAGENT_CA_BUNDLE:-}" ] || _cmd="$_cmd --ca-bundle $LICAGENT_CA_BUNDLE"
  echo "$_cmd"
}

# licagent_activate KIND CREDENTIAL SERVER: KIND is key or code; an empty CREDENTIAL only
# reminds the administrator to activate when no license is installed yet.
licagent_activate() {
  _kind=$1
  _credential=$2
  _server=${3:-${LICAGENT_SERVER_URL:-}}
  case "$_kind" in
    key | code) ;;
    *)
      echo "licagent: unknown credential kind '$_kind' (expected key or code): not activated" >&2
      _kind=key
      _credential=
      ;;
  esac
  if [ -z "$_credential" ]; then
    _rc=0
    "$licagent_bin" check --system --no-background-refresh >/dev/null 2>&1 || _rc=$?
    if [ "$_rc" -eq 10 ]; then
      echo "licagent: this machine is not activated yet. Activate it, as root, with:" >&2
      echo "licagent:   $(licagent_later "$_kind" "$_server")" >&2
    fi
    return 0
  fi
  echo "licagent: activating this machine (machine-wide license in $licagent_state_dir)..." >&2
  set -- activate --system "--$_kind" -
  [ -z "$_server" ] || set -- "$@" --server "$_server"
  _rc=0
  # On standard input, so the credential never shows in the process list.
  printf '%s\n' "$_credential" | "$licagent_bin" "$@" >&2 || _rc=$?
  _credential=
  if [ "$_rc" -eq 0 ]; then
    echo "licagent: this machine is activated." >&2
  else
    echo "licagent: install-time activation failed (exit code $_rc, see above; 20 means the server" >&2
    echo "licagent: could not be reached). The package is installed all the same, without a license." >&2
    echo "licagent: Activate it later, as root, with:" >&2
    echo "licagent:   $(licagent_later "$_kind" "$_server")" >&2
  fi
  return 0
}

# With LICAGENT_DEACTIVATE=1 in the environment: gives the seat back to the server before the
# package is removed (the cached license goes with it). A failure keeps the seat taken on the
# server and is only reported.
licagent_deactivate() {
  [ "${LICAGENT_DEACTIVATE:-0}" = 1 ] || return 0
  [ -x "$licagent_bin" ] || return 0
  _rc=0
  "$licagent_bin" deactivate --system >&2 || _rc=$?
  case "$_rc" in
    0) echo "licagent: the seat was given back to the server." >&2 ;;
    10) echo "licagent: no license installed: nothing to deactivate." >&2 ;;
    *) echo "licagent: deactivation failed (exit code $_rc): the seat stays taken on the server." >&2 ;;
  esac
  return 0
}

# Deletes the machine-wide cache: license, clock mark, lock, stamps. Users' own caches
# (~/.local/state/licagent) are theirs and are never touched.
licagent_purge_state() {
  rm -rf "$licagent_state_dir" || true
}
# --- end of the licagent package hooks ---
