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

/* Two consecutive words from a word-aligned address, then the pointer moves past them by
 * `stride` bytes (8 when the data is contiguous). On Thumb-2 cores this is one LDRD with
 * post-increment (gcc splits 64-bit loads into two LDRs, so say it directly); LDRD needs the
 * address to be a multiple of 4. Elsewhere it is two plain loads. */
#if defined(__thumb2__)
#define MG_LOAD_PAIR_ADVANCE(lo, hi, ptr, stride)                                                  \
    __asm__("ldrd %0, %1, [%2], #" #stride                                                        \
            : "=&r"(lo), "=&r"(hi), "+r"(ptr)                                                      \
            : "m"(*(const struct { uint32_t mg_w[2]; } *)(const void *)(ptr)))
#else
#define MG_LOAD_PAIR_ADVANCE(lo, hi, ptr, stride)                                                  \
    do {                                                                                           \
        memcpy(&(lo), (const void *)(ptr), 4);                                                     \
        memcpy(&(hi), (const uint8_t *)(const void *)(ptr) + 4, 4);                               \
        (ptr) = (const uint32_t *)(const void *)((const uint8_t *)(const void *)(ptr) + (stride)); \
    } while (0)
#endif

/* Stores two words at a word-aligned address, then moves the pointer by `stride` bytes: one
 * STRD with post-increment on Thumb-2 cores, two plain stores elsewhere. */
#if defined(__thumb2__)
#define MG_STORE_PAIR_ADVANCE(lo, hi, ptr, stride)                                                 \
    __asm__("strd %2, %3, [%1], #" #stride                                                        \
            : "=m"(*(struct { uint32_t mg_w[2]; } *)(void *)(ptr)), "+r"(ptr)                      \
            : "r"(lo), "r"(hi))
#else
#define MG_STORE_PAIR_ADVANCE(lo, hi, ptr, stride)                                                 \
    do {                                                                                           \
        uint32_t mg_pair_[2];                                                                      \
        mg_pair_[0] = (lo);                                                                        \
        mg_pair_[1] = (hi);                                                                        \
        memcpy((void *)(ptr), mg_pair_, 8);                                                        \
        (ptr) = (uint32_t *)(void *)((uint8_t *)(void *)(ptr) + (stride));                         \
    } while (0)
#endif

/* Lane-wise a + b and a - b of two pairs of int16 (wrapping), one SADD16 or SSUB16 on DSP cores. */
#if MG_HAS_DSP
static inline uint32_t mg_sadd16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int16x2_t)a, (int16x2_t)b); }
static inline uint32_t mg_ssub16(uint32_t a, uint32_t b) { return (uint32_t)__ssub16((int16x2_t)a, (int16x2_t)b); }
#else
static inline uint32_t mg_sadd16(uint32_t a, uint32_t b)
{
    return (((a & 0xFFFFu) + (b & 0xFFFFu)) & 0xFFFFu) | (((a >> 16) + (b >> 16)) << 16);
}
static inline uint32_t mg_ssub16(uint32_t a, uint32_t b)
{
    return (((a & 0xFFFFu) - (b & 0xFFFFu)) & 0xFFFFu) | (((a >> 16) - (b >> 16)) << 16);
}
#endif

/* Two int16 values packed into one word: lo in bits 0-15, hi in bits 16-31 (one PKHBT on DSP cores). */
static inline uint32_t mg_pack16(int32_t lo, int32_t hi) { return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16); }

/* 16x16 multiply-accumulates of one lane each: mg_smlaXY(a, b, acc) = acc + a.X * b.Y, where
 * X and Y are b (bits 0-15) or t (bits 16-31) and each lane is a signed int16. One instruction
 * (SMLABB, SMLABT, SMLATB, SMLATT) on DSP cores. */
#if MG_HAS_DSP
static inline int32_t mg_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
static inline int32_t mg_smlabt(uint32_t a, uint32_t b, int32_t acc) { return __smlabt((int32_t)a, (int32_t)b, acc); }
static inline int32_t mg_smlatb(uint32_t a, uint32_t b, int32_t acc) { return __smlatb((int32_t)a, (int32_t)b, acc); }
static inline int32_t mg_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt((int32_t)a, (int32_t)b, acc); }
#else
static inline int32_t mg_dsp_lane_lo(uint32_t x) { return (int32_t)(int16_t)(x & 0xFFFFu); }
static inline int32_t mg_dsp_lane_hi(uint32_t x) { return (int32_t)(int16_t)(x >> 16); }
static inline int32_t mg_smlabb(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mg_dsp_lane_lo(a) * mg_dsp_lane_lo(b))); }
static inline int32_t mg_smlabt(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mg_dsp_lane_lo(a) * mg_dsp_lane_hi(b))); }
static inline int32_t mg_smlatb(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mg_dsp_lane_hi(a) * mg_dsp_lane_lo(b))); }
static inline int32_t mg_smlatt(uint32_t a, uint32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mg_dsp_lane_hi(a) * mg_dsp_lane_hi(b))); }
#endif

/* acc + ((a * b + 2^31) >> 32): the rounded high word of a 32x32 product added to acc (SMMLAR on
 * DSP cores, which ACLE does not name). */
#if MG_HAS_DSP
static inline int32_t mg_smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#else
static inline int32_t mg_smmlar(int32_t a, int32_t b, int32_t acc)
{
    /* Modulo 2^64, as the instruction computes it. */
    uint64_t total = ((uint64_t)(uint32_t)acc << 32) + (uint64_t)((int64_t)a * b) + 0x80000000u;
    return (int32_t)(uint32_t)(total >> 32);
}
#endif

/* acc + sxtb16(x) lane by lane: bytes 0 and 2 of x (or 1 and 3 for the ror8 form) sign-extended
 * and added to the two int16 lanes of acc, each lane wrapping modulo 2^16 (SXTAB16). */
#if MG_HAS_DSP
static inline uint32_t mg_sxtab16(uint32_t acc, uint32_t x) { return __sxtab16(acc, x); }
static inline uint32_t mg_sxtab16_ror8(uint32_t acc, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}
#else
static inline uint32_t mg_sxtab16(uint32_t acc, uint32_t x)
{
    uint32_t lo = (acc + (uint32_t)(int32_t)(int8_t)(x & 0xFF)) & 0xFFFFu;
    uint32_t hi = ((acc >> 16) + (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xFF)) & 0xFFFFu;
    return lo | (hi << 16);
}
static inline uint32_t mg_sxtab16_ror8(uint32_t acc, uint32_t x) { return mg_sxtab16(acc, (x >> 8) | (x << 24)); }
#endif

#endif
