/* Arm CMSDK APB UART (MPS2/MPS3 FPGA images and their QEMU models), polled, and the CMSDK APB
 * timer as a free-running counter. Register layout: Arm CMSDK technical reference manual. */
#include "mg_cortexm.h"

#define UART_DATA (MG_UART_BASE + 0x00u)
#define UART_STATE (MG_UART_BASE + 0x04u)
#define UART_CTRL (MG_UART_BASE + 0x08u)
#define UART_BAUDDIV (MG_UART_BASE + 0x10u)
#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define STATE_RX_OVERRUN (1u << 3)

void mg_uart_init(void)
{
    MG_REG32(UART_BAUDDIV) = MG_UART_CLOCK_HZ / MG_UART_BAUD; /* at least 16 (checked by microgen) */
    MG_REG32(UART_CTRL) = 0x3u;                                /* TX and RX enabled, no interrupts */
}

int mg_uart_read_byte(void)
{
    while ((MG_REG32(UART_STATE) & STATE_RX_FULL) == 0) {
        if ((MG_REG32(UART_STATE) & STATE_RX_OVERRUN) != 0) MG_REG32(UART_STATE) = STATE_RX_OVERRUN;
    }
    return (int)(MG_REG32(UART_DATA) & 0xFFu);
}

void mg_uart_write_byte(uint8_t byte)
{
    while ((MG_REG32(UART_STATE) & STATE_TX_FULL) != 0) {
    }
    MG_REG32(UART_DATA) = byte;
}

void mg_uart_flush(void)
{
    while ((MG_REG32(UART_STATE) & STATE_TX_FULL) != 0) {
    }
}

#if MG_COUNTER_TIMER
#define TIMER_CTRL (MG_TIMER_BASE + 0x00u)
#define TIMER_VALUE (MG_TIMER_BASE + 0x04u)
#define TIMER_RELOAD (MG_TIMER_BASE + 0x08u)

void mg_timer_init(void)
{
    MG_REG32(TIMER_CTRL) = 0;
    MG_REG32(TIMER_RELOAD) = 0xFFFFFFFFu;
    MG_REG32(TIMER_VALUE) = 0xFFFFFFFFu;
    MG_REG32(TIMER_CTRL) = 0x1u; /* enabled, system clock, no interrupt */
}

/* Counts before the last rephase. */
static uint32_t timer_base;

/* The timer counts down from 2^32 - 1 and reloads: its complement counts up and wraps. */
uint32_t mg_timer_read(void)
{
    return timer_base + (0xFFFFFFFFu - MG_REG32(TIMER_VALUE));
}

void mg_timer_rephase(void)
{
    timer_base = mg_timer_read();
    MG_REG32(TIMER_VALUE) = 0xFFFFFFFFu;
}
#endif
