/* Wine-only shim: Debian's Wine 8 has no bcryptprimitives.dll, which Rust's
 * standard library imports on Windows for ProcessPrng. This DLL, placed next
 * to taizhang.exe for the Wine test only, forwards ProcessPrng to advapi32's
 * SystemFunction036 (RtlGenRandom). Real Windows 10 and later ship the DLL;
 * never distribute this file. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
