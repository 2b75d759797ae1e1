/* The RPC server of a microgen firmware: framing, CRC, message handlers and per-operator timing.
 * The wire protocol is docs/protocol.md. No heap and no stdio: replies go out through
 * mg_port_write() and every byte in comes through mg_rpc_feed(). */
#ifndef MG_RPC_H
#define MG_RPC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_RPC_PROTOCOL_VERSION 2
#define MG_RPC_MAX_PAYLOAD 256
#define MG_RPC_MAX_RANK 6
/* type, seq, length (2), payload, crc (2): the largest frame body before stuffing. */
#define MG_RPC_MAX_BODY (4 + MG_RPC_MAX_PAYLOAD + 2)

/* Message types; a reply sets bit 7 of its request's type. */
#define MG_RPC_ECHO 0x01
#define MG_RPC_INFO 0x02
#define MG_RPC_TENSOR_INFO 0x03
#define MG_RPC_WRITE_INPUT 0x04
#define MG_RPC_RUN 0x05
#define MG_RPC_READ_TIMINGS 0x06
#define MG_RPC_READ_OUTPUT 0x07
#define MG_RPC_STATUS 0x08
#define MG_RPC_REPLY 0x80
#define MG_RPC_ERROR 0xFF

/* Error codes carried by an error reply. */
#define MG_RPC_BAD_CRC 1
#define MG_RPC_BAD_FRAME 2
#define MG_RPC_FRAME_TOO_LONG 3
#define MG_RPC_UNKNOWN_MESSAGE 4
#define MG_RPC_BAD_INDEX 5
#define MG_RPC_BAD_OFFSET 6
#define MG_RPC_BAD_LENGTH 7
#define MG_RPC_MODEL_ERROR 8
#define MG_RPC_INPUT_STALE 9

/* One model input or output, where it lives in the arena and what it holds. */
typedef struct {
    uint32_t size;                  /* bytes */
    uint32_t offset;                /* in the arena */
    uint32_t dims[MG_RPC_MAX_RANK];
    float scale;                    /* 0 for float tensors */
    int32_t zero_point;
    uint8_t dtype;                  /* 1 int8, 2 float32, 3 uint8, 4 int16, 5 int32 */
    uint8_t rank;
} mg_tensor_desc;

/* Everything the server knows about the model it serves (main.c fills it from the model
 * header's MG_<NAME>_* macros). The server checks every request against it. */
typedef struct {
    const char *name;
    uint32_t build_id;
    uint8_t *arena;
    uint32_t arena_size;
    int (*run)(uint8_t *arena);     /* returns 0 on success */
    const mg_tensor_desc *inputs;
    const mg_tensor_desc *outputs;
    uint8_t num_inputs;
    uint8_t num_outputs;
    uint16_t num_operators;
    /* 1 when no buffer of the memory plan overwrites an input, so an input written once can be
     * run many times. 0 when the plan reuses an input's memory after reading it: then every RUN
     * needs every input written again (up to its last byte; inputs 32 and up are not tracked),
     * and a RUN without them is refused. */
    uint8_t inputs_preserved;
    uint64_t *operator_ticks;       /* num_operators sums, written by RUN */
} mg_model_desc;

/* The receiver's state. Public only so a caller (or a test) can own one. */
typedef struct {
    const mg_model_desc *model;
    uint32_t runs_completed;
    uint16_t rx_length;             /* body bytes kept in frame[] */
    uint8_t rx_state;
    uint8_t rx_error;               /* why the frame being discarded is bad */
    uint8_t last_error;
    /* The seq of the RUN just answered, while no other request has come since (0: none): a
     * retried RUN, whose reply was lost, gets the same reply again instead of a second run on
     * inputs the first run may have overwritten. */
    uint8_t run_seq;
    uint8_t inputs_stale;           /* the last run overwrote the inputs, and they are not all new */
    uint16_t answered_runs;         /* the answered RUN's runs and total, for the repeat */
    uint64_t answered_total;
    uint32_t inputs_written;        /* bit k: input k written up to its last byte since the last run */
    uint8_t out_length;
    uint16_t out_crc;
    uint8_t out[32];                /* stuffed bytes waiting for mg_port_write() */
    uint8_t frame[MG_RPC_MAX_BODY]; /* the request's body, then the reply's payload at frame + 4 */
} mg_rpc_server;

/* CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR. */
uint16_t mg_rpc_crc16(const uint8_t *data, uint32_t length);

void mg_rpc_init(mg_rpc_server *server, const mg_model_desc *model);

/* Takes one byte from the line; a complete frame is answered through mg_port_write(). */
void mg_rpc_feed(mg_rpc_server *server, uint8_t byte);

/* Reads bytes from the port and feeds them until mg_port_read_byte() returns -1. */
void mg_rpc_serve(const mg_model_desc *model);

/* Called by a model compiled with -DMG_PROFILE around every operator. */
void mg_profile_begin(int operator_index);
void mg_profile_end(int operator_index);

#ifdef __cplusplus
}
#endif

#endif
