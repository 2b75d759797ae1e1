/* The Armv7E-M DSP instructions the int8 kernels use, behind one name each.
 *
 * On cores with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55) they are the ACLE
 * intrinsics from arm_acle.h: one instruction each. Elsewhere (Cortex-M3, the host) they are plain
 * C with exactly the same results, so the same kernel source can be tested bit for bit on the host
 * (define MG_USE_DSP=1 there to force the SIMD code path through these emulations).
 * MG_USE_DSP says which path a kernel should take: 1 where the instructions are real. */
#ifndef MG_DSP_H
#define MG_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define MG_HAS_DSP 1
#else
#define MG_HAS_DSP 0
#endif

#ifndef MG_USE_DSP
#define MG_USE_DSP MG_HAS_DSP
#endif

/* Unaligned 32-bit load of four int8 values (a single LDR on Armv7-M, which allows unaligned LDR). */
static inline uint32_t mg_read_u32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if MG_HAS_DSP

/* Bytes 0 and 2 sign-extended into two int16 lanes. */
static inline uint32_t mg_sxtb16(uint32_t x) { return __sxtb16(x); }
/* Bytes 1 and 3 sign-extended into two int16 lanes: one SXTB16 with its ROR #8 operand (gcc 12
 * does not fold a C rotate into it, so say it directly). */
static inline uint32_t mg_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
/* acc + lo(a)*lo(b) + hi(a)*hi(b), 16x16 products. */
static inline int32_t mg_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad(a, b, acc); }
#else

static inline uint32_t mg_sxtb16(uint32_t x)
{
    uint32_t lo = (uint32_t)(int32_t)(int8_t)(x & 0xFF) & 0xFFFFu;
    uint32_t hi = (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xFF) & 0xFFFFu;
    return lo | (hi << 16);
}

static inline uint32_t mg_sxtb16_ror8(uint32_t x) { return mg_sxtb16((x >> 8) | (x << 24)); }

static inline int32_t mg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t lo = (int32_t)(int16_t)(a & 0xFFFF) * (int32_t)(int16_t)(b & 0xFFFF);
    int32_t hi = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}

#endif

/* Two int16 values packed into one word: lo in bits 0-15, hi in bits 16-31 (one PKHBT on DSP cores). */
static inline uint32_t mg_pack16(int32_t lo, int32_t hi) { return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16); }

#endif
