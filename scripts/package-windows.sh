#!/usr/bin/env bash
# Build dist/taizhang-windows.zip, the package a county hands out to its
# townships:
#   taizhang.exe    the Windows program (scripts/build-windows.sh)
#   使用说明.txt     short instructions in Chinese (UTF-8 with BOM, CRLF: Notepad shows it)
#   空白模板/        the four blank official forms (templates/)
#   示例/            the sample round (samples/, invented persons) with its taizhang.toml
#
# Entry names are stored in GBK, as Windows Explorer and the common Chinese
# archivers read names without the UTF-8 flag, plus the Info-ZIP Unicode
# path field (UTF-8) for the archivers that know it.
#
# Usage: scripts/package-windows.sh             build the exe, then the zip
#        scripts/package-windows.sh --no-build  package the existing dist/taizhang.exe
# Needs what scripts/build-windows.sh needs, and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    *) echo "package-windows.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ "$build" = 1 ]; then
  scripts/build-windows.sh
fi
[ -f dist/taizhang.exe ] || { echo "package-windows.sh: dist/taizhang.exe missing (run scripts/build-windows.sh)" >&2; exit 1; }

version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/taizhang"
mkdir -p "$root/空白模板" "$root/示例"
cp dist/taizhang.exe "$root/taizhang.exe"
cp templates/*.xlsx "$root/空白模板/"
for f in samples/*; do
  case "$(basename "$f")" in
    *.xlsx|*.xls|*.csv|*.ods|taizhang.toml) cp "$f" "$root/示例/" ;;
  esac
done
# Notepad: a BOM and CRLF line ends.
{ printf '\xef\xbb\xbf'; sed -e "s/{VERSION}/$version/g" -e 's/$/\r/' scripts/package/使用说明.txt; } \
  > "$root/使用说明.txt"

mkdir -p dist
python3 - "$root" dist/taizhang-windows.zip.tmp <<'PY'
import os, struct, sys, time, zipfile, zlib

root, out = sys.argv[1], sys.argv[2]

class GbkInfo(zipfile.ZipInfo):
    """An entry whose stored name is GBK, with the UTF-8 name in the
    Info-ZIP Unicode path extra field (0x7075)."""
    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800

def add(z, path, name, is_dir=False):
    info = GbkInfo(name + ("/" if is_dir else ""), date_time=time.localtime()[:6])
    gbk = info.filename.encode("gbk")
    utf8 = info.filename.encode("utf-8")
    if gbk != utf8:
        info.extra = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(gbk)) + utf8
    if is_dir:
        info.external_attr = 0o40755 << 16 | 0x10
        z.writestr(info, b"")
    else:
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())

with zipfile.ZipFile(out, "w") as z:
    for top in ["taizhang.exe", "使用说明.txt", "空白模板", "示例"]:
        p = os.path.join(root, top)
        if os.path.isdir(p):
            add(z, p, top, is_dir=True)
            for n in sorted(os.listdir(p)):
                add(z, os.path.join(p, n), top + "/" + n)
        else:
            add(z, p, top)
PY
mv dist/taizhang-windows.zip.tmp dist/taizhang-windows.zip
echo "已生成 dist/taizhang-windows.zip"
