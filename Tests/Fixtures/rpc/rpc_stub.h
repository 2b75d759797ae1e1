/* A stub model and a stub port for fuzzing the RPC server (templates/runtime/mg_rpc.c) off any
 * board. Every reply the server writes is decoded by an independent checker as it arrives; a
 * malformed reply stops the program. */
#ifndef RPC_STUB_H
#define RPC_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "mg_rpc.h"

/* A model whose descriptor is partly malformed on purpose (an output reaching past the arena,
 * a rank above 6), so the server's checks against the descriptor are exercised too. */
extern const mg_model_desc rpc_stub_model;

/* Where mg_port_read_byte() reads from (then returns -1), for mg_rpc_serve(). */
void rpc_stub_set_input(const uint8_t *data, size_t length);

/* The last complete reply frame the server sent. */
typedef struct {
    uint8_t type;
    uint8_t seq;
    uint16_t length;
    uint8_t payload[MG_RPC_MAX_PAYLOAD];
} rpc_stub_reply;

extern rpc_stub_reply rpc_stub_last_reply;
extern unsigned long rpc_stub_replies;
extern unsigned long rpc_stub_errors[10]; /* error replies by code */

/* Forgets the decoder's partial state (between independent fuzz inputs). */
void rpc_stub_reset(void);

/* A check failed: says why and exits with status 1. */
void rpc_stub_fail(const char *what);

/* An independent CRC-16/CCITT-FALSE, to check the server's. */
uint16_t rpc_stub_crc16(const uint8_t *data, size_t length);

/* Encodes a frame, stuffed and between flags, into out (at least 2 * (length + 6) + 2 bytes);
 * returns the bytes written. The length may exceed the protocol's limit, to test it. */
#define RPC_STUB_MAX_ENCODED_PAYLOAD 1024
size_t rpc_stub_encode(uint8_t *out, uint8_t type, uint8_t seq, const uint8_t *payload, size_t length);

#endif
