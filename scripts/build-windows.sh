#!/usr/bin/env bash
# Cross-compile the Windows program: dist/taizhang.exe (x86_64-pc-windows-gnu, release).
#
# Needs the Rust target (added here through rustup when missing) and Debian's
# mingw-w64 cross compiler:
#   sudo apt-get install -y gcc-mingw-w64-x86-64
#
# Usage: scripts/build-windows.sh            build dist/taizhang.exe
#        scripts/build-windows.sh --shim DIR also build the Wine-only
#          bcryptprimitives.dll shim (scripts/wine-shim/) into DIR; never ship it
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
CC_BIN=x86_64-w64-mingw32-gcc

shim_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shim) shim_dir="${2:?--shim needs a folder}"; shift 2 ;;
    *) echo "build-windows.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

if ! command -v "$CC_BIN" >/dev/null 2>&1; then
  echo "build-windows.sh: $CC_BIN not found; install it with: sudo apt-get install -y gcc-mingw-w64-x86-64" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
  fi
fi

# The linker and the C compiler (zstd-sys) for the target.
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER="$CC_BIN"
export CC_x86_64_pc_windows_gnu="$CC_BIN"
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar

cargo build --release --locked --target "$TARGET" --bin taizhang
mkdir -p dist
cp "target/$TARGET/release/taizhang.exe" dist/taizhang.exe.tmp
mv dist/taizhang.exe.tmp dist/taizhang.exe
echo "已生成 dist/taizhang.exe"

if [ -n "$shim_dir" ]; then
  mkdir -p "$shim_dir"
  "$CC_BIN" -shared -O2 -s -o "$shim_dir/bcryptprimitives.dll" \
    scripts/wine-shim/bcryptprimitives.c scripts/wine-shim/bcryptprimitives.def -ladvapi32
  echo "已生成 $shim_dir/bcryptprimitives.dll（仅供 Wine 测试使用）"
fi
