/* The porting layer (mg_port.h) for Cortex-M boards: the family's UART, and the operator
 * counter: DWT CYCCNT (true cycles; QEMU does not count it, so it falls back to SysTick),
 * SysTick extended to 32 bits by its overflow interrupt, or the family's 32-bit timer. */
#include "mg_port.h"

#include "mg_cortexm.h"

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define SCB_ICSR 0xE000ED04u
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)
#define DEMCR 0xE000EDFCu
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u
#define DWT_LAR 0xE0001FB0u

static volatile uint32_t systick_wraps;
static uint8_t counter_is_dwt;

void mg_systick_handler(void)
{
    systick_wraps++;
}

#if !MG_COUNTER_TIMER
/* The counter's value at the last rephase (see counter_rephase). */
static uint32_t counter_base;

static void systick_start(void)
{
    MG_REG32(SYST_RVR) = 0xFFFFFFu;
    MG_REG32(SYST_CVR) = 0;
    /* Processor clock, overflow interrupt, enabled. */
    MG_REG32(SYST_CSR) = 0x7u;
    /* CVR reads 0 until the first tick loads it: wait, or the first count is off by 2^24. */
    while (MG_REG32(SYST_CVR) == 0) {
    }
}

/* SysTick ticks since it was started (or rephased): 24 bits of down-counter under the count
 * of wraps. */
static uint64_t systick_ticks(void)
{
    uint32_t wraps, value, pending;
    do {
        wraps = systick_wraps;
        value = MG_REG32(SYST_CVR);
        pending = MG_REG32(SCB_ICSR) & ICSR_PENDSTSET;
    } while (wraps != systick_wraps);
    /* Wrapped before `value` was read, but the interrupt has not run yet: `value` is near the
     * top again, so count that wrap here. */
    if (pending != 0 && value >= 0x800000u) wraps++;
    return ((uint64_t)wraps << 24) + (0xFFFFFFu - value);
}

static uint32_t systick_counter(void)
{
#if MG_QEMU && MG_QEMU_TICK_DENOMINATOR != 1
    /* 1e9 / clock_hz instructions per tick is not a whole number here: count instructions. */
    return counter_base + (uint32_t)(systick_ticks() * MG_QEMU_TICK_NUMERATOR / MG_QEMU_TICK_DENOMINATOR);
#else
    return counter_base + (uint32_t)systick_ticks();
#endif
}
#endif

#if MG_QEMU
/* Under QEMU the core polls the UART for as long as the host takes to send, so where the
 * counter is within its current tick (40 instructions on mps2) differs from one request to the
 * next, and a count could come out one tick more or less. Restarting the counter after every
 * byte received ties its phase to the code path, so every count up to the next byte (all of a
 * RUN) repeats exactly. Writing SYST_CVR clears it; it reloads exactly one tick later. */
static void counter_rephase(void)
{
#if MG_COUNTER_TIMER
    mg_timer_rephase();
#else
    if (counter_is_dwt) return;
    __asm__ volatile("cpsid i" ::: "memory");
    /* The tick spent reloading is counted as a whole one. */
    counter_base = systick_counter() + (uint32_t)(MG_QEMU_TICK_DENOMINATOR == 1 ? 1u : MG_QEMU_TICK_NUMERATOR / MG_QEMU_TICK_DENOMINATOR);
    MG_REG32(SYST_CVR) = 0;
    MG_REG32(SCB_ICSR) = ICSR_PENDSTCLR;
    systick_wraps = 0;
    while (MG_REG32(SYST_CVR) == 0) {
    }
    __asm__ volatile("cpsie i" ::: "memory");
#endif
}
#endif

#if MG_COUNTER_DWT
/* True when CYCCNT runs: QEMU 7.2 accepts the writes but the counter stays 0. */
static int dwt_start(void)
{
    volatile uint32_t spin;
    MG_REG32(DEMCR) |= 1u << 24; /* TRCENA */
    MG_REG32(DWT_LAR) = 0xC5ACCE55u; /* unlock (Cortex-M7); ignored where there is no lock */
    if ((MG_REG32(DWT_CTRL) & (1u << 25)) != 0) return 0; /* NOCYCCNT */
    MG_REG32(DWT_CYCCNT) = 0;
    MG_REG32(DWT_CTRL) |= 1u; /* CYCCNTENA */
    for (spin = 0; spin < 64u; spin++) {
    }
    return MG_REG32(DWT_CYCCNT) != 0;
}
#endif

void mg_port_init(void)
{
    mg_board_setup();
    mg_uart_init();
#if MG_COUNTER_DWT
    counter_is_dwt = (uint8_t)dwt_start();
    if (!counter_is_dwt) systick_start();
#elif MG_COUNTER_TIMER
    mg_timer_init();
#else
    systick_start();
#endif
}

int mg_port_read_byte(void)
{
    int byte = mg_uart_read_byte();
#if MG_QEMU
    counter_rephase();
#endif
    return byte;
}

void mg_port_write(const uint8_t *data, uint32_t length)
{
    while (length-- > 0) mg_uart_write_byte(*data++);
}

uint32_t mg_port_counter(void)
{
#if MG_COUNTER_TIMER
    return mg_timer_read();
#else
    if (counter_is_dwt) return MG_REG32(DWT_CYCCNT);
    return systick_counter();
#endif
}

uint32_t mg_port_counter_hz(void)
{
#if MG_QEMU && !MG_COUNTER_TIMER && MG_QEMU_TICK_DENOMINATOR != 1
    if (!counter_is_dwt) return 1000000000u; /* one count per instruction = per virtual ns */
#endif
    return MG_CLOCK_HZ;
}

uint32_t mg_port_counter_flags(void)
{
    uint32_t flags = counter_is_dwt ? MG_PORT_COUNTER_CYCLES : 0u;
#if MG_QEMU
    flags |= MG_PORT_COUNTER_ICOUNT;
#endif
    return flags;
}

uint32_t mg_port_instructions_per_tick(void)
{
#if MG_QEMU
    if (counter_is_dwt) return 0;
#if MG_COUNTER_TIMER || MG_QEMU_TICK_DENOMINATOR == 1
    return MG_QEMU_TICK_NUMERATOR;
#else
    return 1u;
#endif
#else
    return 0;
#endif
}

uint32_t mg_port_stack_high_water(void)
{
    /* The guard (ARMv7-M) cannot be read: it counts as used once the scan reaches it. */
    const uint32_t *word = __mg_stack_bottom + MG_STACK_GUARD_BYTES / 4u;
    while (word < __mg_stack_top && *word == MG_STACK_PAINT) word++;
    return (uint32_t)((uintptr_t)__mg_stack_top - (uintptr_t)word);
}

uint32_t mg_port_stack_size(void)
{
    return (uint32_t)((uintptr_t)__mg_stack_top - (uintptr_t)__mg_stack_bottom);
}

const char *mg_port_board_name(void)
{
    return MG_BOARD_NAME;
}

const char *mg_port_core_name(void)
{
    return MG_CORE_NAME;
}
