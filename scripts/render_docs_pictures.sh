#!/usr/bin/env bash
# Refresh both README pictures from the current sample round, in one go:
#   docs/annotated.png  an annotated survey copy as LibreOffice prints it
#                       (scripts/render_readme_picture.sh)
#   docs/report.png     the top of the samples' 报告.html in headless Chromium, 1280×2000
# Each picture carries the counts of the round it shows as a PNG text chunk
# "taizhang-source" (scripts/ppm_tool.py stamp). tests/it/html_report.rs runs
# the samples and compares: when the samples or the rules change the counts,
# that test fails until this script is run again and the pictures committed.
#
#   scripts/render_docs_pictures.sh [DIR]      write into DIR (default: docs/)
#
# Environment: TAIZHANG_BIN (default: the release build, built here),
#              CHROMIUM (default: /usr/bin/chromium).
# Needs: soffice, pdftoppm and pdftotext, chromium, python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
dir="${1:-$root/docs}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ -z "${TAIZHANG_BIN:-}" ]]; then
    (cd "$root" && cargo build --release --quiet --bin taizhang)
    TAIZHANG_BIN="$root/target/release/taizhang"
fi
export TAIZHANG_BIN

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. The sample round, as a clerk's folder named 示例 (the page names
#    示例/taizhang.toml, not a temporary path).
mkdir -p "$work/示例"
for f in "$root"/samples/*; do
    case "$(basename "$f")" in
        *.xlsx|*.xls|*.csv|*.ods|taizhang.toml) cp "$f" "$work/示例/" ;;
    esac
done
set +e
(cd "$work" && "$TAIZHANG_BIN" reconcile 示例 --quiet >"$work/log" 2>&1)
rc=$?
set -e
if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    cat "$work/log" >&2
    echo "reconcile failed (exit $rc)" >&2
    exit 2
fi
out="$work/示例/核对结果"

# 2. What the pictures show, from findings.json.
source_text="$(python3 - "$out/findings.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
s = d["summary"]
keys = ["errors", "warnings", "notices", "linked", "unsurveyed", "unconfirmed", "status_unknown"]
print("samples findings=%d " % len(d["findings"]) + " ".join("%s=%d" % (k, s[k]) for k in keys))
PY
)"

# 3. docs/annotated.png.
SAMPLES="$work/示例" "$here/render_readme_picture.sh" "$work/annotated.png" >/dev/null

# 4. docs/report.png.
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --no-default-browser-check --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --hide-scrollbars --virtual-time-budget=2000 \
    "--user-data-dir=$work/profile" --window-size=1280,2000 \
    "--screenshot=$work/report.png" "file://$out/报告.html" >"$work/chromium.log" 2>&1 \
    || { cat "$work/chromium.log" >&2; echo "chromium failed" >&2; exit 2; }
[[ -s "$work/report.png" ]] || { echo "chromium wrote no screenshot" >&2; exit 2; }

# 5. Stamp and put in place.
mkdir -p "$dir"
for p in annotated report; do
    python3 "$here/ppm_tool.py" stamp "$work/$p.png" "$source_text"
    cp "$work/$p.png" "$dir/$p.png.tmp"
    mv "$dir/$p.png.tmp" "$dir/$p.png"
done
echo "wrote $dir/annotated.png and $dir/report.png ($source_text)"
