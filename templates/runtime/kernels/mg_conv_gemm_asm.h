/* The dot-product loops of mg_conv_gemm.h in Thumb-2 assembly, for cores with the DSP extension.
 *
 * Each routine is one self-contained asm statement: it takes a pointer to a job description in
 * r0, saves every other register it uses on the stack and restores them, so the compiler only
 * has to give it r0. (Loops that ask the compiler for 13 registers fail to compile with
 * "impossible constraints" in some surroundings; these cannot.) Loop bookkeeping lives in stack
 * slots, reloaded into a register that is free at that point. Groups are taken 4 at a time after
 * the 0 to 3 left over.
 *
 * Register use, conv (2 pixels x 2 channels, int16 weights widened beforehand): r0-r3
 * accumulators p0.c0, p0.c1, p1.c0, p1.c1; r4-r7 the group's activations (p0 lo, p0 hi, p1 lo,
 * p1 hi); r8-r11 its weights (c0 lo, c0 hi, c1 lo, c1 hi); r12 activation pointer; lr weight
 * pointer. 10 instructions per group of 16 multiply-adds.
 * Fully connected (1 row x 4 outputs, int8 weights): r0-r3 accumulators; r4-r5 the input group;
 * r6 a widened half-word pair; r8-r11 the 4 outputs' weights; r12 input pointer; lr weight
 * pointer. 18 instructions per group of 16 multiply-adds. */
#ifndef MG_CONV_GEMM_ASM_H
#define MG_CONV_GEMM_ASM_H

#include <stdint.h>

typedef struct {
    const int16_t *activations;
    const int16_t *weights;
    const int32_t *bias;
    int32_t *acc;
    int32_t blocks;
    int32_t groups;
} mg_dot_job;

/* Stack slots below the saved registers. */
#define MG_DOT_ASM_PROLOGUE                                                                            \
    "push {r1-r12, lr}\n\t"                                                                            \
    "sub sp, sp, #24\n\t"                                                                              \
    "ldm r0, {r1-r6}\n\t"          /* activations, weights, bias, acc, blocks, groups */               \
    "str r1, [sp, #0]\n\t"         /* [sp]: start of the activations */                                \
    "str r3, [sp, #4]\n\t"         /* [sp, #4]: next bias */                                           \
    "str r4, [sp, #8]\n\t"         /* [sp, #8]: next accumulator block */                              \
    "str r5, [sp, #12]\n\t"        /* [sp, #12]: blocks left */                                        \
    "mov lr, r2\n\t"
#define MG_DOT_ASM_EPILOGUE                                                                            \
    "add sp, sp, #24\n\t"                                                                              \
    "pop {r1-r12, lr}\n\t"

/* 2x2, one group: 16 multiply-adds. */
#define MG_DOT_2X2_ASM_GROUP                                                                           \
    "ldmia r12!, {r4-r7}\n\t"                                                                          \
    "ldmia lr!, {r8-r11}\n\t"                                                                          \
    "smlad r0, r4, r8, r0\n\t"                                                                         \
    "smlad r0, r5, r9, r0\n\t"                                                                         \
    "smlad r1, r4, r10, r1\n\t"                                                                        \
    "smlad r1, r5, r11, r1\n\t"                                                                        \
    "smlad r2, r6, r8, r2\n\t"                                                                         \
    "smlad r2, r7, r9, r2\n\t"                                                                         \
    "smlad r3, r6, r10, r3\n\t"                                                                        \
    "smlad r3, r7, r11, r3\n\t"

/* For each of job->blocks pixel pairs (their patches one after the other, 16 bytes a group):
 * acc[0..3] = bias[0], bias[1], bias[0], bias[1] plus the dot products with the widened weight
 * pair (16 bytes a group, the same for every pixel pair); then acc += 4. groups >= 1. The loop
 * ends are tested on the weight pointer, which starts over for each pixel pair. */
static inline void mg_dot_2x2_pixels_asm(const mg_dot_job *job)
{
    register const mg_dot_job *r0 __asm__("r0") = job;
    __asm__ volatile(
        MG_DOT_ASM_PROLOGUE
        "mov r12, r1\n\t"
        "str r2, [sp, #0]\n\t"    /* [sp]: start of the weights */
        "and r7, r6, #3\n\t"
        "add r7, r2, r7, lsl #4\n\t"
        "str r7, [sp, #20]\n\t"   /* [sp, #20]: end of the groups taken one at a time */
        "add r6, r2, r6, lsl #4\n\t"
        "str r6, [sp, #16]\n\t"   /* [sp, #16]: end of the weights */
        "1:\n\t"
        "ldr r8, [sp, #4]\n\t"
        "ldrd r0, r1, [r8]\n\t"
        "mov r2, r0\n\t"
        "mov r3, r1\n\t"
        "ldr lr, [sp, #0]\n\t"
        "ldr r8, [sp, #20]\n\t"
        "cmp lr, r8\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        MG_DOT_2X2_ASM_GROUP
        "ldr r8, [sp, #20]\n\t"
        "cmp lr, r8\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "ldr r8, [sp, #16]\n\t"
        "cmp lr, r8\n\t"
        "beq 5f\n\t"
        "4:\n\t"
        MG_DOT_2X2_ASM_GROUP
        MG_DOT_2X2_ASM_GROUP
        MG_DOT_2X2_ASM_GROUP
        MG_DOT_2X2_ASM_GROUP
        "ldr r8, [sp, #16]\n\t"
        "cmp lr, r8\n\t"
        "bne 4b\n\t"
        "5:\n\t"
        "ldr r8, [sp, #8]\n\t"
        "stmia r8!, {r0-r3}\n\t"
        "str r8, [sp, #8]\n\t"
        "ldr r8, [sp, #12]\n\t"
        "subs r8, r8, #1\n\t"
        "str r8, [sp, #12]\n\t"
        "bne 1b\n\t"
        MG_DOT_ASM_EPILOGUE
        : "+r"(r0)
        :
        : "cc", "memory");
}

/* 2x2 "times 256", one group: the two prepared patches with one LDM (r4 = p0 (x1, x3), r5 = p0
 * (256 x0 - x1 + 127, ...), r6, r7 likewise for p1), the two channels' stored weight words with
 * one LDRD; each word used as it is and through SXTB16 (r10). */
#define MG_DOT_2X2_X256_ASM_GROUP                                                                      \
    "ldmia r12!, {r4-r7}\n\t"                                                                          \
    "ldrd r8, r9, [lr], #8\n\t"                                                                        \
    "sxtb16 r10, r8\n\t"                                                                               \
    "smlad r0, r4, r8, r0\n\t"                                                                         \
    "smlad r0, r5, r10, r0\n\t"                                                                        \
    "smlad r2, r6, r8, r2\n\t"                                                                         \
    "smlad r2, r7, r10, r2\n\t"                                                                        \
    "sxtb16 r10, r9\n\t"                                                                               \
    "smlad r1, r4, r9, r1\n\t"                                                                         \
    "smlad r1, r5, r10, r1\n\t"                                                                        \
    "smlad r3, r6, r9, r3\n\t"                                                                         \
    "smlad r3, r7, r10, r3\n\t"

/* For each of job->blocks channel pairs (weights one pair after the other, 8 bytes a group):
 * acc[0..3] = bias[0], bias[1], bias[0], bias[1] plus the products with the two prepared patches
 * (16 bytes a group, the same for every pair); then acc += 4, bias += 2. groups >= 1. The loop
 * ends are tested on the patch pointer, which starts over for each pair. */
static inline void mg_dot_2x2_x256_blocks_asm(const mg_dot_job *job)
{
    register const mg_dot_job *r0 __asm__("r0") = job;
    __asm__ volatile(
        MG_DOT_ASM_PROLOGUE
        "and r7, r6, #3\n\t"
        "add r7, r1, r7, lsl #4\n\t"
        "str r7, [sp, #20]\n\t"   /* [sp, #20]: end of the groups taken one at a time */
        "add r6, r1, r6, lsl #4\n\t"
        "str r6, [sp, #16]\n\t"   /* [sp, #16]: end of the patches */
        "1:\n\t"
        "ldr r8, [sp, #4]\n\t"
        "ldrd r0, r1, [r8], #8\n\t"
        "str r8, [sp, #4]\n\t"
        "mov r2, r0\n\t"
        "mov r3, r1\n\t"
        "ldr r12, [sp, #0]\n\t"
        "ldr r8, [sp, #20]\n\t"
        "cmp r12, r8\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        MG_DOT_2X2_X256_ASM_GROUP
        "ldr r8, [sp, #20]\n\t"
        "cmp r12, r8\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "ldr r8, [sp, #16]\n\t"
        "cmp r12, r8\n\t"
        "beq 5f\n\t"
        "4:\n\t"
        MG_DOT_2X2_X256_ASM_GROUP
        MG_DOT_2X2_X256_ASM_GROUP
        MG_DOT_2X2_X256_ASM_GROUP
        MG_DOT_2X2_X256_ASM_GROUP
        "ldr r8, [sp, #16]\n\t"
        "cmp r12, r8\n\t"
        "bne 4b\n\t"
        "5:\n\t"
        "ldr r8, [sp, #8]\n\t"
        "stmia r8!, {r0-r3}\n\t"
        "str r8, [sp, #8]\n\t"
        "ldr r8, [sp, #12]\n\t"
        "subs r8, r8, #1\n\t"
        "str r8, [sp, #12]\n\t"
        "bne 1b\n\t"
        MG_DOT_ASM_EPILOGUE
        : "+r"(r0)
        :
        : "cc", "memory");
}

/* 1x4, one group: the input's group with LDRD, the 4 outputs' int8 weights (16 bytes) with one
 * LDM, each word widened in two lane halves (r6 and the word itself) next to its two SMLADs. */
#define MG_DOT_1X4_ASM_GROUP                                                                           \
    "ldrd r4, r5, [r12], #8\n\t"                                                                       \
    "ldmia lr!, {r8-r11}\n\t"                                                                          \
    "sxtb16 r6, r8\n\t"                                                                                \
    "sxtb16 r8, r8, ror #8\n\t"                                                                        \
    "smlad r0, r4, r6, r0\n\t"                                                                         \
    "smlad r0, r5, r8, r0\n\t"                                                                         \
    "sxtb16 r6, r9\n\t"                                                                                \
    "sxtb16 r9, r9, ror #8\n\t"                                                                        \
    "smlad r1, r4, r6, r1\n\t"                                                                         \
    "smlad r1, r5, r9, r1\n\t"                                                                         \
    "sxtb16 r6, r10\n\t"                                                                               \
    "sxtb16 r10, r10, ror #8\n\t"                                                                      \
    "smlad r2, r4, r6, r2\n\t"                                                                         \
    "smlad r2, r5, r10, r2\n\t"                                                                        \
    "sxtb16 r6, r11\n\t"                                                                               \
    "sxtb16 r11, r11, ror #8\n\t"                                                                      \
    "smlad r3, r4, r6, r3\n\t"                                                                         \
    "smlad r3, r5, r11, r3\n\t"

/* For each of job->blocks groups of 4 outputs: acc[0..3] = bias[0..3] plus the dot products of
 * the widened input row (8 bytes a group) with the 4 outputs' int8 weights (16 bytes a group);
 * then acc += 4, bias += 4. groups >= 1. The loop ends are tested on the input pointer, which
 * starts over for each block. */
static inline void mg_dot_1x4_blocks_asm(const mg_dot_job *job)
{
    register const mg_dot_job *r0 __asm__("r0") = job;
    __asm__ volatile(
        MG_DOT_ASM_PROLOGUE
        "and r7, r6, #3\n\t"
        "add r7, r1, r7, lsl #3\n\t"
        "str r7, [sp, #20]\n\t"    /* [sp, #20]: end of the groups taken one at a time */
        "add r6, r1, r6, lsl #3\n\t"
        "str r6, [sp, #16]\n\t"    /* [sp, #16]: end of the input row */
        "1:\n\t"
        "ldr r8, [sp, #4]\n\t"
        "ldmia r8!, {r0-r3}\n\t"
        "str r8, [sp, #4]\n\t"
        "ldr r12, [sp, #0]\n\t"
        "ldr r8, [sp, #20]\n\t"
        "cmp r12, r8\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        MG_DOT_1X4_ASM_GROUP
        "ldr r8, [sp, #20]\n\t"
        "cmp r12, r8\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "ldr r8, [sp, #16]\n\t"
        "cmp r12, r8\n\t"
        "beq 5f\n\t"
        "4:\n\t"
        MG_DOT_1X4_ASM_GROUP
        MG_DOT_1X4_ASM_GROUP
        MG_DOT_1X4_ASM_GROUP
        MG_DOT_1X4_ASM_GROUP
        "ldr r8, [sp, #16]\n\t"
        "cmp r12, r8\n\t"
        "bne 4b\n\t"
        "5:\n\t"
        "ldr r8, [sp, #8]\n\t"
        "stmia r8!, {r0-r3}\n\t"
        "str r8, [sp, #8]\n\t"
        "ldr r8, [sp, #12]\n\t"
        "subs r8, r8, #1\n\t"
        "str r8, [sp, #12]\n\t"
        "bne 1b\n\t"
        MG_DOT_ASM_EPILOGUE
        : "+r"(r0)
        :
        : "cc", "memory");
}

/* The "times 256" form of MG_DOT_1X4_ASM_GROUP: r4 = (x1, x3), r5 = (256 x0 - x1 + 127, ...);
 * each weight word once as it is and once through SXTB16. */
#define MG_DOT_1X4_X256_ASM_GROUP                                                                      \
    "ldrd r4, r5, [r12], #8\n\t"                                                                       \
    "ldmia lr!, {r8-r11}\n\t"                                                                          \
    "sxtb16 r6, r8\n\t"                                                                                \
    "smlad r0, r4, r8, r0\n\t"                                                                         \
    "smlad r0, r5, r6, r0\n\t"                                                                         \
    "sxtb16 r6, r9\n\t"                                                                                \
    "smlad r1, r4, r9, r1\n\t"                                                                         \
    "smlad r1, r5, r6, r1\n\t"                                                                         \
    "sxtb16 r6, r10\n\t"                                                                               \
    "smlad r2, r4, r10, r2\n\t"                                                                        \
    "smlad r2, r5, r6, r2\n\t"                                                                         \
    "sxtb16 r6, r11\n\t"                                                                               \
    "smlad r3, r4, r11, r3\n\t"                                                                        \
    "smlad r3, r5, r6, r3\n\t"

/* mg_dot_1x4_blocks_asm for the "times 256" form (14 instructions per group). */
static inline void mg_dot_1x4_x256_blocks_asm(const mg_dot_job *job)
{
    register const mg_dot_job *r0 __asm__("r0") = job;
    __asm__ volatile(
        MG_DOT_ASM_PROLOGUE
        "and r7, r6, #3\n\t"
        "add r7, r1, r7, lsl #3\n\t"
        "str r7, [sp, #20]\n\t"
        "add r6, r1, r6, lsl #3\n\t"
        "str r6, [sp, #16]\n\t"
        "1:\n\t"
        "ldr r8, [sp, #4]\n\t"
        "ldmia r8!, {r0-r3}\n\t"
        "str r8, [sp, #4]\n\t"
        "ldr r12, [sp, #0]\n\t"
        "ldr r8, [sp, #20]\n\t"
        "cmp r12, r8\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        MG_DOT_1X4_X256_ASM_GROUP
        "ldr r8, [sp, #20]\n\t"
        "cmp r12, r8\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "ldr r8, [sp, #16]\n\t"
        "cmp r12, r8\n\t"
        "beq 5f\n\t"
        "4:\n\t"
        MG_DOT_1X4_X256_ASM_GROUP
        MG_DOT_1X4_X256_ASM_GROUP
        MG_DOT_1X4_X256_ASM_GROUP
        MG_DOT_1X4_X256_ASM_GROUP
        "ldr r8, [sp, #16]\n\t"
        "cmp r12, r8\n\t"
        "bne 4b\n\t"
        "5:\n\t"
        "ldr r8, [sp, #8]\n\t"
        "stmia r8!, {r0-r3}\n\t"
        "str r8, [sp, #8]\n\t"
        "ldr r8, [sp, #12]\n\t"
        "subs r8, r8, #1\n\t"
        "str r8, [sp, #12]\n\t"
        "bne 1b\n\t"
        MG_DOT_ASM_EPILOGUE
        : "+r"(r0)
        :
        : "cc", "memory");
}

#endif
