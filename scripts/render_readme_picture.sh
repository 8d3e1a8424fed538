#!/usr/bin/env bash
# Render one annotated survey copy of the sample round as LibreOffice prints
# it — the 核对说明 sheet's first page (verdict, colour legend, findings)
# above the data-sheet page that shows the most fills. The README pictures
# (docs/annotated.png with docs/report.png) are refreshed together by
# scripts/render_docs_pictures.sh, which calls this script.
#
#   scripts/render_readme_picture.sh OUT.png
#
# Environment:
#   TAIZHANG_BIN  use this binary instead of `cargo run --release --`
#   SAMPLES       the sample folder (default: samples next to this script)
#   COPY          the annotated copy to render (default 附件1_熨斗初级中学.核对.xlsx)
#   DPI           resolution (default 100)
#   DATA_MARK     text on the data sheet's first printed page (default 填报单位):
#                 pages before it are 核对说明's
#   PDF_OUT       also keep LibreOffice's PDF of the copy at this path
# Needs: soffice (LibreOffice), pdftoppm and pdftotext (poppler-utils), python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${1:?usage: render_readme_picture.sh OUT.png (docs/: use scripts/render_docs_pictures.sh)}"
samples="${SAMPLES:-$root/samples}"
copy="${COPY:-附件1_熨斗初级中学.核对.xlsx}"
dpi="${DPI:-100}"
mark="${DATA_MARK:-填报单位}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. The annotated copies (exit 1 only means the round has errors).
set +e
if [[ -n "${TAIZHANG_BIN:-}" ]]; then
    "$TAIZHANG_BIN" reconcile "$samples" --out "$work/out" >"$work/log" 2>&1
else
    (cd "$root" && cargo run --release --quiet -- reconcile "$samples" --out "$work/out") >"$work/log" 2>&1
fi
rc=$?
set -e
if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    cat "$work/log" >&2
    echo "reconcile failed (exit $rc)" >&2
    exit 2
fi

# 2. To PDF with LibreOffice (private profile, ASCII file name).
cp "$work/out/$copy" "$work/copy.xlsx"
soffice "-env:UserInstallation=file://$work/profile" --headless --norestore \
    --convert-to pdf --outdir "$work" "$work/copy.xlsx" >"$work/soffice.log" 2>&1
[[ -s "$work/copy.pdf" ]] || { cat "$work/soffice.log" >&2; echo "LibreOffice wrote no PDF" >&2; exit 2; }
if [[ -n "${PDF_OUT:-}" ]]; then
    cp "$work/copy.pdf" "$PDF_OUT"
fi

# 3. Page 1 is 核对说明; the data sheet starts at the first page showing
#    $mark, and of its pages the one with the most red and orange fills wins.
pages="$(pdfinfo "$work/copy.pdf" 2>/dev/null | awk '/^Pages:/{print $2}')"
pages="${pages:-1}"
pdftoppm -r 40 "$work/copy.pdf" "$work/low"
first_data=""
for ((p = 2; p <= pages; p++)); do
    if pdftotext -f "$p" -l "$p" "$work/copy.pdf" - | grep -q "$mark"; then
        first_data="$p"
        break
    fi
done
best=""; best_n=0
for ((p = ${first_data:-pages + 1}; p <= pages; p++)); do
    f="$(ls "$work"/low-*.ppm | sed -n "${p}p")"
    read -r _ _ red orange _ < <(python3 "$here/ppm_tool.py" count "$f")
    n=$((red + orange))
    if (( n > best_n )); then best="$p"; best_n="$n"; fi
done

pdftoppm -r "$dpi" -f 1 -l 1 "$work/copy.pdf" "$work/summary"
parts=("$(ls "$work"/summary-*.ppm | head -1)")
if [[ -n "$best" ]]; then
    pdftoppm -r "$dpi" -f "$best" -l "$best" "$work/copy.pdf" "$work/data"
    parts+=("$(ls "$work"/data-*.ppm | head -1)")
else
    echo "warning: no page with fills besides 核对说明" >&2
fi

# 4. Crop to content, stack, write the PNG.
mkdir -p "$(dirname "$out")"
python3 "$here/ppm_tool.py" stack "$out.tmp.png" "${parts[@]}"
mv "$out.tmp.png" "$out"
echo "wrote $out (核对说明 page 1${best:+ and data page $best of $pages})"
