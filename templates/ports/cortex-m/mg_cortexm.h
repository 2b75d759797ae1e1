/* What the Cortex-M port files share: register access, the board family's UART driver
 * (templates/ports/<family>/), the generated board set-up, and the linker script's symbols. */
#ifndef MG_CORTEXM_H
#define MG_CORTEXM_H

#include <stdint.h>

#include "mg_board.h"

#define MG_REG32(address) (*(volatile uint32_t *)(uintptr_t)(address))

/* Every word of the stack holds this at reset; the high-water mark is the first word that
 * no longer does. */
#define MG_STACK_PAINT 0x5AA55AA5u

/* ARMv8-M has a stack limit register (MSPLIM): a push below the stack faults (STKOF). ARMv7-M
 * has not, so the lowest MG_STACK_GUARD_BYTES of the stack are made inaccessible with the MPU:
 * an overflow then faults there (MemManage) instead of running off the start of RAM, which
 * QEMU's MPS2 boards silently ignore. */
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define MG_HAS_STACK_LIMIT 1
#define MG_STACK_GUARD_BYTES 0u
#else
#define MG_HAS_STACK_LIMIT 0
#define MG_STACK_GUARD_BYTES 256u
#endif

/* The serial line, polled (no interrupts): one implementation per UART family. */
void mg_uart_init(void);
int mg_uart_read_byte(void);
void mg_uart_write_byte(uint8_t byte);
/* Returns once the last byte written has left the UART. */
void mg_uart_flush(void);

/* Clock enables, power switches: generated from the board file's uart.setup (mg_board.c). */
void mg_board_setup(void);

/* The family's free-running 32-bit up-counter, for boards whose counter kind is "timer". */
void mg_timer_init(void);
uint32_t mg_timer_read(void);
/* Restarts the timer so its phase follows the code path (QEMU only; see mg_port_cortexm.c). */
void mg_timer_rephase(void);

/* Ends the program: writes the end-of-run record with `status` on the UART, then ends QEMU
 * (a reset under -no-reboot) or parks a real core. */
void mg_exit(int status) __attribute__((noreturn));

void mg_systick_handler(void);

/* From the generated linker script. */
extern uint32_t __mg_stack_bottom[];
extern uint32_t __mg_stack_top[];

#endif
