#!/usr/bin/env bash
# Regenerates the sample round (all persons invented) and converts the
# primary school's survey workbook to .xls, as WPS users send it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf samples/核对结果
cargo run --quiet --example make_samples -- samples 360 2022
school="附件1_熨斗镇中心小学"
tmp=$(mktemp -d)
soffice --headless --norestore -env:UserInstallation=file://$tmp/profile \
  --convert-to xls:"MS Excel 97" --outdir "$tmp" "samples/$school.xlsx" >/dev/null
mv "$tmp/$school.xls" "samples/$school.xls"
rm -f "samples/$school.xlsx"
rm -rf "$tmp"
ls -l samples
