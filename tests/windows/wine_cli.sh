# shellcheck shell=bash disable=SC2154
# Sourced by the Windows CLI tests (cli_test.sh, online_test.sh), which set $exe (licagent.exe),
# $work (their folder) and fail().
# expect CODE ARGS...: runs $exe ARGS under Wine, its output (CRLF made LF) in $work/out.txt,
# and fails unless it exits CODE.
expect() {
  local want=$1
  shift
  timeout 120 wine "$exe" "$@" </dev/null >"$work/out" 2>&1
  local got=$?
  tr -d '\r' <"$work/out" >"$work/out.txt"
  [ "$got" -eq "$want" ] || fail "licagent $* exited $got, expected $want: $(cat "$work/out.txt")"
}
