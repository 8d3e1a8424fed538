#!/bin/sh
# Runs every fuzz target for a fixed number of executions (not in CI).
#   fuzz/run.sh [RUNS]      default 200000 executions per target
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
# Crashes land in fuzz/artifacts/<target>/; copy them into
# tests/fixtures/hostile/fuzz/ (file inputs) or add a case to
# tests/it/hostile.rs, and fix the cause.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=${1:-200000}
cd "$here"
# Seed corpora: the committed samples and hostile fixtures for the file
# targets, a few IDs and dates for the value targets.
mkdir -p corpus/xlsx_patch corpus/xls_copy corpus/csv corpus/id corpus/date corpus/header
cp "$root"/samples/*.xlsx "$root"/tests/fixtures/hostile/* corpus/xlsx_patch/ 2>/dev/null
cp "$root"/tests/fixtures/read/*.xlsx corpus/xlsx_patch/ 2>/dev/null
cp "$root"/tests/fixtures/cli/*.xls "$root"/tests/fixtures/read/*.xls corpus/xls_copy/ 2>/dev/null
printf '序号,姓名,身份证号码\n1,王小明,610922201005031239\n' > corpus/csv/utf8.csv
printf '\357\273\277姓名,证件号码\n王小明,61092220100503123X\n' > corpus/csv/bom.csv
printf '\001610922201005031239' > corpus/id/text
printf '\001110105491231002' > corpus/id/legacy
printf '\0022010年5月3日' > corpus/date/cn
printf '\0022010.5' > corpus/date/month
status=0
for t in id date header csv xlsx_patch xls_copy; do
    log="$here/run-$t.log"
    cargo +nightly fuzz run "$t" "corpus/$t" -- -runs="$runs" -rss_limit_mb=4096 \
        -timeout=30 >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1)
    crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
    echo "$t: exit $rc, ${execs:-no summary (crashed?)}, artifacts: $crashes"
    [ "$rc" -eq 0 ] || status=1
done
exit $status
