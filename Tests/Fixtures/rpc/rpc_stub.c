/* The stub model, the stub port and the reply checker (see rpc_stub.h). */
#include "rpc_stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_port.h"

/* ---- The model ---- */

#define ARENA_SIZE 100
#define OPERATORS 5

/* Exactly the sizes the descriptor claims, so AddressSanitizer sees any access past them. */
static uint8_t arena[ARENA_SIZE];
static uint64_t operator_ticks[OPERATORS];

static const mg_tensor_desc inputs[2] = {
    { .size = 10, .offset = 0, .dims = { 2, 5 }, .scale = 0.5f, .zero_point = -3, .dtype = 1, .rank = 2 },
    { .size = 16, .offset = 12, .dims = { 4 }, .scale = 0.0f, .zero_point = 0, .dtype = 2, .rank = 1 },
};

static const mg_tensor_desc outputs[3] = {
    { .size = 20, .offset = 40, .dims = { 1, 20 }, .scale = 0.25f, .zero_point = 7, .dtype = 1, .rank = 2 },
    /* Malformed on purpose: reaches past the end of the arena. */
    { .size = 300, .offset = 60, .dims = { 300 }, .scale = 1.0f, .zero_point = 0, .dtype = 1, .rank = 1 },
    /* Malformed on purpose: a rank the protocol cannot carry. */
    { .size = 8, .offset = 92, .dims = { 1, 1, 1, 1, 1, 8 }, .scale = 1.0f, .zero_point = 0, .dtype = 1, .rank = 9 },
};

/* Touches inputs and outputs, times operators (some out of range, which the runtime must
 * ignore) and fails when input byte 3 is odd, for MODEL_ERROR. */
static int stub_run(uint8_t *memory)
{
    int op, i, sum = 0;
    for (op = -1; op <= OPERATORS; op++) {
        mg_profile_begin(op);
        for (i = 0; i < 10; i++) sum += memory[i];
        mg_profile_end(op);
    }
    for (i = 0; i < 20; i++) memory[40 + i] = (uint8_t)(sum + i);
    return memory[3] & 1;
}

const mg_model_desc rpc_stub_model = {
    .name = "stub_model",
    .build_id = 0x12345678u,
    .arena = arena,
    .arena_size = ARENA_SIZE,
    .run = stub_run,
    .inputs = inputs,
    .outputs = outputs,
    .num_inputs = 2,
    .num_outputs = 3,
    .num_operators = OPERATORS,
    /* As if the plan reused input memory: RUN then needs fresh inputs every time. */
    .inputs_preserved = 0,
    .operator_ticks = operator_ticks,
};

/* ---- The reply checker ---- */

rpc_stub_reply rpc_stub_last_reply;
unsigned long rpc_stub_replies;
unsigned long rpc_stub_errors[10];

static uint8_t body[MG_RPC_MAX_BODY];
static size_t body_length;
static int escaped;

void rpc_stub_fail(const char *what)
{
    fprintf(stderr, "rpc fuzz: %s\n", what);
    exit(1);
}

uint16_t rpc_stub_crc16(const uint8_t *data, size_t length)
{
    uint32_t crc = 0xFFFF;
    size_t i;
    int bit;
    for (i = 0; i < length; i++) {
        for (bit = 7; bit >= 0; bit--) {
            uint32_t in = (data[i] >> bit) & 1u;
            uint32_t top = (crc >> 15) & 1u;
            crc = (crc << 1) & 0xFFFFu;
            if (in ^ top) crc ^= 0x1021u;
        }
    }
    return (uint16_t)crc;
}

void rpc_stub_reset(void)
{
    body_length = 0;
    escaped = 0;
}

/* The payload length a reply of this type must have, or -1 when any length 0..256 will do. */
static int expected_length(uint8_t type, const uint8_t *payload, size_t length)
{
    switch (type) {
    case MG_RPC_INFO | MG_RPC_REPLY: {
        size_t n = 22, k;
        for (k = 0; k < 3; k++) {
            if (n >= length || payload[n] > 32) return -2;
            n += 1u + payload[n];
        }
        return (int)n;
    }
    case MG_RPC_TENSOR_INFO | MG_RPC_REPLY: return length >= 4 && payload[3] <= 6 ? 16 + 4 * payload[3] : -2;
    case MG_RPC_WRITE_INPUT | MG_RPC_REPLY: return 7;
    case MG_RPC_RUN | MG_RPC_REPLY: return 12;
    case MG_RPC_READ_TIMINGS | MG_RPC_REPLY: return length >= 3 && payload[2] <= 30 ? 3 + 8 * payload[2] : -2;
    case MG_RPC_READ_OUTPUT | MG_RPC_REPLY: return length >= 1 ? -1 : -2;
    case MG_RPC_STATUS | MG_RPC_REPLY: return 13;
    case MG_RPC_ECHO | MG_RPC_REPLY: return -1;
    case MG_RPC_ERROR: {
        size_t i;
        if (length < 2 || payload[0] < 1 || payload[0] > 9) return -2;
        for (i = 2; i < length; i++) {
            if (payload[i] < 0x20 || payload[i] > 0x7E) return -2;
        }
        return -1;
    }
    default: return -2;
    }
}

static void check_reply(void)
{
    size_t length;
    int expected;
    if (body_length < 6) rpc_stub_fail("reply shorter than 6 bytes");
    length = (size_t)body[2] | (size_t)body[3] << 8;
    if (length > MG_RPC_MAX_PAYLOAD || length != body_length - 6) rpc_stub_fail("reply length field disagrees");
    if (rpc_stub_crc16(body, body_length - 2) != ((uint16_t)body[body_length - 2] | (uint16_t)body[body_length - 1] << 8)) {
        rpc_stub_fail("reply has a bad crc");
    }
    expected = expected_length(body[0], body + 4, length);
    if (expected == -2 || (expected >= 0 && (size_t)expected != length)) {
        fprintf(stderr, "reply type 0x%02x, payload %zu bytes\n", body[0], length);
        rpc_stub_fail("malformed reply");
    }
    rpc_stub_last_reply.type = body[0];
    rpc_stub_last_reply.seq = body[1];
    rpc_stub_last_reply.length = (uint16_t)length;
    memcpy(rpc_stub_last_reply.payload, body + 4, length);
    rpc_stub_replies++;
    if (body[0] == MG_RPC_ERROR) rpc_stub_errors[body[4]]++;
}

static void check_byte(uint8_t byte)
{
    if (byte == 0x7E) {
        if (escaped) rpc_stub_fail("reply has an escape before a flag");
        if (body_length > 0) check_reply();
        body_length = 0;
        return;
    }
    if (escaped) {
        if (byte != 0x5E && byte != 0x5D) rpc_stub_fail("reply has a bad escape");
        byte ^= 0x20;
        escaped = 0;
    } else if (byte == 0x7D) {
        escaped = 1;
        return;
    }
    if (body_length >= sizeof body) rpc_stub_fail("reply too long");
    body[body_length++] = byte;
}

size_t rpc_stub_encode(uint8_t *out, uint8_t type, uint8_t seq, const uint8_t *payload, size_t length)
{
    static uint8_t whole[4 + RPC_STUB_MAX_ENCODED_PAYLOAD + 2];
    size_t n = 0, i;
    uint16_t crc;
    if (length > RPC_STUB_MAX_ENCODED_PAYLOAD) rpc_stub_fail("test frame too long to encode");
    whole[0] = type;
    whole[1] = seq;
    whole[2] = (uint8_t)length;
    whole[3] = (uint8_t)(length >> 8);
    if (length > 0) memcpy(whole + 4, payload, length);
    crc = rpc_stub_crc16(whole, 4 + length);
    whole[4 + length] = (uint8_t)crc;
    whole[5 + length] = (uint8_t)(crc >> 8);
    out[n++] = 0x7E;
    for (i = 0; i < 6 + length; i++) {
        uint8_t byte = whole[i];
        if (byte == 0x7E || byte == 0x7D) {
            out[n++] = 0x7D;
            byte ^= 0x20;
        }
        out[n++] = byte;
    }
    out[n++] = 0x7E;
    return n;
}

/* ---- The port ---- */

static const uint8_t *input_data;
static size_t input_length;
/* Starts just below a wrap, so timing across the wrap is exercised. */
static uint32_t counter = 0xFFFFFF00u;

void rpc_stub_set_input(const uint8_t *data, size_t length)
{
    input_data = data;
    input_length = length;
}

void mg_port_init(void) {}

int mg_port_read_byte(void)
{
    if (input_length == 0) return -1;
    input_length--;
    return *input_data++;
}

void mg_port_write(const uint8_t *data, uint32_t length)
{
    uint32_t i;
    if (length == 0) rpc_stub_fail("empty write");
    for (i = 0; i < length; i++) check_byte(data[i]);
}

uint32_t mg_port_counter(void) { return counter += 7; }
uint32_t mg_port_counter_hz(void) { return 25000000u; }
uint32_t mg_port_counter_flags(void) { return MG_PORT_COUNTER_ICOUNT; }
uint32_t mg_port_instructions_per_tick(void) { return 40; }
uint32_t mg_port_stack_high_water(void) { return 1234; }
uint32_t mg_port_stack_size(void) { return 8192; }
/* Longer than the 32 bytes INFO carries: the server must cut it. */
const char *mg_port_board_name(void) { return "a-board-name-longer-than-thirty-two-bytes"; }
const char *mg_port_core_name(void) { return "cortex-m7"; }
