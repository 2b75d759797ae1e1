/* The porting layer: what the RPC runtime needs from a board. One implementation per board
 * family (templates/ports/<family>/); the host port uses stdin/stdout as the serial line. */
#ifndef MG_PORT_H
#define MG_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Brings up the serial line, the counter and anything else the board needs. */
void mg_port_init(void);

/* Blocks until a byte arrives and returns it (0..255), or returns -1 when the line is closed
 * (on the host: end of input), which makes the server return. */
int mg_port_read_byte(void);

/* Sends `length` bytes, blocking until they are accepted. */
void mg_port_write(const uint8_t *data, uint32_t length);

/* A free-running counter counting up and wrapping at 2^32, so `end - start` in uint32_t
 * arithmetic is right across one wrap. */
uint32_t mg_port_counter(void);
uint32_t mg_port_counter_hz(void);

/* INFO flags: bit 0 the counter is a true cycle counter (DWT), bit 1 it runs under QEMU icount. */
#define MG_PORT_COUNTER_CYCLES 0x01u
#define MG_PORT_COUNTER_ICOUNT 0x02u
uint32_t mg_port_counter_flags(void);

/* Under QEMU icount: instructions per counter tick (40 on the mps2 boards); 0 elsewhere. */
uint32_t mg_port_instructions_per_tick(void);

/* Bytes of the painted stack ever used, and the stack's size; 0 when unknown. */
uint32_t mg_port_stack_high_water(void);
uint32_t mg_port_stack_size(void);

/* Short ASCII names for INFO (at most 32 bytes are sent). */
const char *mg_port_board_name(void);
const char *mg_port_core_name(void);

#ifdef __cplusplus
}
#endif

#endif
