# shellcheck shell=bash
# Assertions shared by the test scripts. Set ASSERT_NAME before use; the summary line is
# "$ASSERT_NAME: N passed, M failed", the plain closing line CI reads.

passed=0
failed=0
summary_printed=0

log() { printf '%s\n' "$*"; }
pass() {
    passed=$((passed + 1))
    printf 'PASS  %s\n' "$1"
}
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$1"
}
die() {
    fail "aborted: $*"
    exit 1
}
# check DESCRIPTION CMD...: pass if CMD succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
    if [[ "$2" == "$3" ]]; then
        pass "$1 ($3)"
    else
        fail "$1: expected $2, got $3"
    fi
}
summary() {
    log ""
    log "${ASSERT_NAME:-test}: $passed passed, $failed failed"
    summary_printed=1
}
# summarize_on_exit RC: from a cleanup trap, make sure a summary is printed once.
summarize_on_exit() {
    if ((summary_printed == 0)); then
        (("$1" == 0)) || ((failed > 0)) || fail "stopped early (exit status $1)"
        summary
    fi
}

# kv KEY WORDS...: the value of KEY=value among WORDS (e.g. exitblock's counter lines), or "missing".
kv() {
    local key=$1 word
    shift
    for word in "$@"; do
        if [[ "$word" == "$key="* ]]; then
            printf '%s\n' "${word#*=}"
            return 0
        fi
    done
    printf 'missing\n'
}

# not_running PID: true when no process PID is left.
not_running() { ! kill -0 "$1" 2>/dev/null; }

# replace_list_key LINE: a filter (stdin to stdout) that puts LINE in place of a config file's
# `list = ...` key, whether its array is on one line or spans several (the shipped config's).
replace_list_key() {
    awk -v line="$1" '
        skipping { if ($0 ~ /\]/) skipping = 0; next }
        /^list = / { print line; if ($0 !~ /\]/) skipping = 1; next }
        { print }'
}
