/* Start-up for ARMv7-M and ARMv8-M Mainline cores: the vector table, the reset handler (paints
 * the stack, copies .data, zeroes .bss and the arena, enables the FPU, the caches and the
 * configurable fault handlers), the fault handlers, which report the fault registers over the
 * UART as one text line starting with "}MG-FAULT", and the end of a run (mg_exit). */
#include <stdint.h>

#include "mg_cortexm.h"

int main(void);
void mg_reset_handler(void) __attribute__((noreturn));
void mg_fault_entry(void) __attribute__((naked));
void mg_fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));

extern uint32_t __mg_data_load[];
extern uint32_t __mg_data_start[];
extern uint32_t __mg_data_end[];
extern uint32_t __mg_bss_start[];
extern uint32_t __mg_bss_end[];
extern uint32_t __mg_arena_start[];
extern uint32_t __mg_arena_end[];

typedef void (*mg_vector)(void);

/* Only the core's own exceptions: the firmware enables no peripheral interrupt. */
__attribute__((section(".isr_vector"), used))
const mg_vector mg_vector_table[16] = {
    (mg_vector)(uintptr_t)__mg_stack_top, /* initial main stack pointer */
    mg_reset_handler,
    mg_fault_entry,        /* NMI */
    mg_fault_entry,        /* HardFault */
    mg_fault_entry,        /* MemManage */
    mg_fault_entry,        /* BusFault */
    mg_fault_entry,        /* UsageFault */
    mg_fault_entry,        /* SecureFault (ARMv8-M) */
    0, 0, 0,
    mg_fault_entry,        /* SVCall: nothing here makes one */
    mg_fault_entry,        /* DebugMonitor */
    0,
    mg_fault_entry,        /* PendSV */
    mg_systick_handler,
};

#define SCB_AIRCR 0xE000ED0Cu
#define SCB_CPACR 0xE000ED88u
#define SCB_SHCSR 0xE000ED24u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u
#define SCB_CCR 0xE000ED14u
#define SCB_ICIALLU 0xE000EF50u
#define SCB_DCISW 0xE000EF60u
#define SCB_CSSELR 0xE000ED84u
#define SCB_CCSIDR 0xE000ED80u

#define MPU_TYPE 0xE000ED90u
#define MPU_CTRL 0xE000ED94u
#define MPU_RNR 0xE000ED98u
#define MPU_RBAR 0xE000ED9Cu
#define MPU_RASR 0xE000EDA0u

#if MG_ENABLE_CACHES
/* Cortex-M7: invalidate then enable the instruction and data caches (CCR.IC, CCR.DC). */
static void enable_caches(void)
{
    uint32_t ccsidr, sets, ways, set, way;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    MG_REG32(SCB_ICIALLU) = 0;
    MG_REG32(SCB_CSSELR) = 0; /* level 1 data cache */
    __asm__ volatile("dsb" ::: "memory");
    ccsidr = MG_REG32(SCB_CCSIDR);
    sets = (ccsidr >> 13) & 0x7FFFu;
    ways = (ccsidr >> 3) & 0x3FFu;
    for (set = 0; set <= sets; set++) {
        for (way = 0; way <= ways; way++) MG_REG32(SCB_DCISW) = (set << 5) | (way << 30);
    }
    __asm__ volatile("dsb" ::: "memory");
    MG_REG32(SCB_CCR) |= (1u << 17) | (1u << 16);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}
#endif

#if !MG_HAS_STACK_LIMIT
/* One MPU region, no access, over the stack's lowest 256 bytes (SIZE = 7: 2^(7+1) bytes; the
 * linker aligns the stack to 256). Privileged code keeps the default map everywhere else. */
static void guard_stack(void)
{
    if (((MG_REG32(MPU_TYPE) >> 8) & 0xFFu) == 0) return; /* no MPU */
    MG_REG32(MPU_RNR) = 0;
    MG_REG32(MPU_RBAR) = (uint32_t)(uintptr_t)__mg_stack_bottom;
    MG_REG32(MPU_RASR) = (1u << 28) | (7u << 1) | 1u; /* XN, AP = no access, 256 bytes, enabled */
    MG_REG32(MPU_CTRL) = (1u << 2) | 1u;              /* PRIVDEFENA, ENABLE */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}
#endif

void mg_reset_handler(void)
{
    volatile uint32_t *word;
    const volatile uint32_t *source;
    uint32_t sp;

    /* Paint the stack below this frame. Volatile stores: the compiler must not turn this loop
     * into a memset call, whose own frame would sit in the memory being painted. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (word = __mg_stack_bottom; (uintptr_t)word + 16u < sp; word++) *word = MG_STACK_PAINT;

    for (source = __mg_data_load, word = __mg_data_start; word < __mg_data_end; word++, source++) *word = *source;
    for (word = __mg_bss_start; word < __mg_bss_end; word++) *word = 0;
    for (word = __mg_arena_start; word < __mg_arena_end; word++) *word = 0;

#if defined(__ARM_FP)
    /* Full access to CP10 and CP11 before the first floating-point instruction. */
    MG_REG32(SCB_CPACR) |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#if MG_HAS_STACK_LIMIT
    /* A push below the stack raises a UsageFault (STKOF) instead of corrupting memory. */
    __asm__ volatile("msr msplim, %0" : : "r"(__mg_stack_bottom));
#else
    guard_stack();
#endif
    /* MemManage, BusFault and UsageFault report themselves instead of escalating to HardFault. */
    MG_REG32(SCB_SHCSR) |= (1u << 16) | (1u << 17) | (1u << 18);
#if MG_ENABLE_CACHES
    enable_caches();
#endif
    mg_exit(main());
}

/* The fault report runs on a stack of its own, since the main stack may be what overflowed:
 * the top of the arena (the linker script keeps it at least 256 bytes). After a fault the
 * model's buffers are dead, so this costs no RAM. */
extern uint32_t __mg_fault_stack_top[];

/* Finds the stacked exception frame (MSP or PSP, from EXC_RETURN bit 2), moves to the fault
 * stack and calls mg_fault_report(frame, EXC_RETURN). Nothing is pushed on the old stack. */
void mg_fault_entry(void)
{
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
#if MG_HAS_STACK_LIMIT
        "movs r2, #0\n\t"
        "msr msplim, r2\n\t"
#endif
        "ldr r2, =__mg_fault_stack_top\n\t"
        "mov sp, r2\n\t"
        "b mg_fault_report\n\t"
        ".ltorg\n\t");
}

static void put_text(const char *text)
{
    while (*text != '\0') mg_uart_write_byte((uint8_t)*text++);
}

static void put_field(const char *name, uint32_t value)
{
    static const char digits[] = "0123456789ABCDEF";
    int shift;
    put_text(" ");
    put_text(name);
    put_text("=0x");
    for (shift = 28; shift >= 0; shift -= 4) mg_uart_write_byte((uint8_t)digits[(value >> shift) & 0xFu]);
}

static const char *exception_name(uint32_t number)
{
    switch (number) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    default: return "Exception";
    }
}

/* Out-of-band lines (the fault report, the end-of-run record) start with OUT_OF_BAND (0x7D, "}"
 * on a terminal): the RPC frames send that byte only as an escape, before 0x5D or 0x5E, so the
 * host can spot the lines in the byte stream whatever the frames carry (docs/protocol.md). */
#define OUT_OF_BAND "\x7D"

/* One line:
 *   }MG-FAULT <kind> IPSR=.. CFSR=.. HFSR=.. MMFAR=.. BFAR=.. EXC_RETURN=.. SP=.. [PC=.. LR=.. PSR=..]
 * The stacked registers are left out when stacking failed or the frame lies outside the stack. */
void mg_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    uint32_t cfsr = MG_REG32(SCB_CFSR);
    /* MSTKERR, STKERR, STKOF: the exception frame was not (fully) written. */
    int stacked = (cfsr & ((1u << 4) | (1u << 12) | (1u << 20))) == 0 && ((uintptr_t)frame & 3u) == 0 &&
                  frame >= __mg_stack_bottom && frame + 8 <= __mg_stack_top;
#if !MG_HAS_STACK_LIMIT
    /* The stack guard must not fault the report itself. */
    MG_REG32(MPU_CTRL) = 0;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
    put_text("\r\n" OUT_OF_BAND "MG-FAULT ");
    put_text(exception_name(ipsr));
    put_field("IPSR", ipsr);
    put_field("CFSR", cfsr);
    put_field("HFSR", MG_REG32(SCB_HFSR));
    put_field("MMFAR", MG_REG32(SCB_MMFAR));
    put_field("BFAR", MG_REG32(SCB_BFAR));
    put_field("EXC_RETURN", exc_return);
    put_field("SP", (uint32_t)(uintptr_t)frame);
    put_field("STACK_BOTTOM", (uint32_t)(uintptr_t)__mg_stack_bottom);
    if (stacked) {
        put_field("R0", frame[0]);
        put_field("R12", frame[4]);
        put_field("LR", frame[5]);
        put_field("PC", frame[6]);
        put_field("PSR", frame[7]);
    }
    put_text("\r\n");
    mg_uart_flush();
    mg_exit(128 + (int)ipsr);
}

/* Writes the end-of-run record "}MG-EXIT STATUS=0x<status>" (the host's ExitRecord) and stops. Under
 * QEMU it then requests a system reset (AIRCR SYSRESETREQ; reachable from the secure state of
 * the M33 and M55 boards too), which ends QEMU: microgen runs it with -no-reboot and without
 * semihosting, so the firmware has no way to the host's shell or files, and the status travels
 * in the record. A real core parks instead: a reset would start the firmware (and a fault)
 * again. */
void mg_exit(int status)
{
    /* In hex through put_field, as the fault line writes its registers: no decimal code to carry. */
    put_text("\r\n" OUT_OF_BAND "MG-EXIT");
    put_field("STATUS", (uint32_t)status);
    put_text("\r\n");
    mg_uart_flush();
#if MG_QEMU
    __asm__ volatile("dsb" ::: "memory");
    MG_REG32(SCB_AIRCR) = 0x05FA0004u; /* VECTKEY, SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
#endif
    for (;;) __asm__ volatile("wfi");
}
