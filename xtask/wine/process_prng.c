/*
 * bcryptprimitives.dll for a Wine that has none (Wine 8 and older).
 *
 * Rust's standard library (1.78 and later) takes its random bytes (HashMap's keys, among others)
 * from ProcessPrng in bcryptprimitives.dll, which Windows 10 and later have and Wine 8 lacks:
 * without it every test binary for x86_64-pc-windows-gnu fails to start under Wine (status
 * c0000135). `cargo xtask ci --only windows` builds this file with the mingw compiler into the
 * step's own Wine prefix, and only when the installed Wine has no bcryptprimitives.dll of its own.
 *
 * ProcessPrng never fails on Windows; RtlGenRandom (advapi32's SystemFunction036) is Wine's
 * cryptographic random source, the one Rust's standard library used before 1.78.
 */
#include <windows.h>

#define RtlGenRandom SystemFunction036
BOOLEAN WINAPI RtlGenRandom(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
