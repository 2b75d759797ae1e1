/* The RPC server of a microgen firmware (docs/protocol.md). A byte-at-a-time receiver: whatever
 * arrives, it never indexes past its buffers, answers every damaged frame with an error reply
 * and starts over at the next flag byte. Every index, offset and length in a request is checked
 * against the model descriptor before any memory is touched. */
#include "mg_rpc.h"
#include "mg_port.h"

#include <string.h>

#define FLAG 0x7E
#define ESCAPE 0x7D
#define ESCAPE_XOR 0x20
#define MAX_NAME 32
#define MAX_TIMINGS_PER_READ 30

/* Receiver states. HUNT only at start-up: bytes before the first flag are line noise. */
enum { RX_HUNT, RX_BODY, RX_ESCAPED, RX_DISCARD };

/* ---- Per-operator timing (called from the model's run function) ---- */

/* Only set while RUN is running the model, so stray calls cannot write anywhere. */
static uint64_t *profile_ticks;
static uint32_t profile_operators;
static uint32_t profile_start;

void mg_profile_begin(int operator_index)
{
    (void)operator_index;
    profile_start = mg_port_counter();
}

void mg_profile_end(int operator_index)
{
    uint32_t end = mg_port_counter();
    if (profile_ticks != 0 && operator_index >= 0 && (uint32_t)operator_index < profile_operators) {
        profile_ticks[operator_index] += (uint32_t)(end - profile_start);
    }
}

/* ---- Little-endian fields and the CRC ---- */

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }

static void put16(uint8_t *p, uint32_t value)
{
    p[0] = (uint8_t)value;
    p[1] = (uint8_t)(value >> 8);
}

static void put32(uint8_t *p, uint32_t value)
{
    put16(p, value);
    put16(p + 2, value >> 16);
}

static void put64(uint8_t *p, uint64_t value)
{
    put32(p, (uint32_t)value);
    put32(p + 4, (uint32_t)(value >> 32));
}

/* Bit by bit rather than with a 512-byte table: frames are short and flash is not. */
static uint16_t crc_update(uint16_t crc, uint8_t byte)
{
    int bit;
    crc = (uint16_t)(crc ^ (uint16_t)byte << 8);
    for (bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000u) ? (uint16_t)((uint32_t)crc << 1 ^ 0x1021u) : (uint16_t)((uint32_t)crc << 1);
    }
    return crc;
}

uint16_t mg_rpc_crc16(const uint8_t *data, uint32_t length)
{
    uint16_t crc = 0xFFFFu;
    uint32_t i;
    for (i = 0; i < length; i++) crc = crc_update(crc, data[i]);
    return crc;
}

/* ---- Sending: stuffed on the fly into a small buffer ---- */

static void out_flush(mg_rpc_server *s)
{
    if (s->out_length > 0) mg_port_write(s->out, s->out_length);
    s->out_length = 0;
}

static void out_raw(mg_rpc_server *s, uint8_t byte)
{
    if (s->out_length >= sizeof s->out) out_flush(s);
    s->out[s->out_length++] = byte;
}

static void out_body(mg_rpc_server *s, uint8_t byte)
{
    s->out_crc = crc_update(s->out_crc, byte);
    if (byte == FLAG || byte == ESCAPE) {
        out_raw(s, ESCAPE);
        byte ^= ESCAPE_XOR;
    }
    out_raw(s, byte);
}

/* Sends a frame whose payload is already at frame + 4. */
static void send_frame(mg_rpc_server *s, uint8_t type, uint8_t seq, uint32_t length)
{
    const uint8_t *payload = s->frame + 4;
    uint16_t crc;
    uint32_t i;
    out_raw(s, FLAG);
    s->out_crc = 0xFFFFu;
    out_body(s, type);
    out_body(s, seq);
    out_body(s, (uint8_t)length);
    out_body(s, (uint8_t)(length >> 8));
    for (i = 0; i < length; i++) out_body(s, payload[i]);
    crc = s->out_crc;
    out_body(s, (uint8_t)crc);
    out_body(s, (uint8_t)(crc >> 8));
    out_raw(s, FLAG);
    out_flush(s);
}

static void send_error(mg_rpc_server *s, uint8_t code, uint8_t request_type, uint8_t seq, const char *reason)
{
    uint8_t *payload = s->frame + 4;
    uint32_t length = 2;
    payload[0] = code;
    payload[1] = request_type;
    while (reason != 0 && reason[length - 2] != '\0' && length < MG_RPC_MAX_PAYLOAD) {
        payload[length] = (uint8_t)reason[length - 2];
        length++;
    }
    s->last_error = code;
    send_frame(s, MG_RPC_ERROR, seq, length);
}

/* ---- Message handlers: each returns the reply's payload length, or fails ---- */

/* A handler's failure: the error code, and the reason written into *reason. */
#define FAIL(code, why) \
    do { \
        *reason = (why); \
        return -(code); \
    } while (0)

static const mg_tensor_desc *find_tensor(const mg_model_desc *model, uint32_t direction, uint32_t index)
{
    if (direction == 0 && index < model->num_inputs && model->inputs != 0) return &model->inputs[index];
    if (direction == 1 && index < model->num_outputs && model->outputs != 0) return &model->outputs[index];
    return 0;
}

/* True when bytes offset .. offset+length-1 of the tensor exist and lie inside the arena. */
static int in_tensor(const mg_model_desc *model, const mg_tensor_desc *tensor, uint32_t offset, uint32_t length)
{
    return model->arena != 0 && tensor->offset <= model->arena_size && tensor->size <= model->arena_size - tensor->offset
        && offset <= tensor->size && length <= tensor->size - offset;
}

/* The timing table's length: none without storage for it. */
static uint32_t timed_operators(const mg_model_desc *model)
{
    return model->operator_ticks != 0 ? model->num_operators : 0;
}

static uint32_t put_name(uint8_t *p, const char *name)
{
    uint32_t length = 0;
    while (name != 0 && length < MAX_NAME && name[length] != '\0') {
        p[1 + length] = (uint8_t)name[length];
        length++;
    }
    p[0] = (uint8_t)length;
    return 1 + length;
}

static int handle_info(mg_rpc_server *s, uint8_t *p, uint32_t length, const char **reason)
{
    const mg_model_desc *model = s->model;
    uint32_t n = 22;
    if (length != 0) FAIL(MG_RPC_BAD_LENGTH, "INFO takes no payload");
    p[0] = MG_RPC_PROTOCOL_VERSION;
    p[1] = model->num_inputs;
    p[2] = model->num_outputs;
    /* Bits 0-1: the counter (mg_port.h); bit 2: inputs survive a run (RUN may repeat). */
    p[3] = (uint8_t)(mg_port_counter_flags() | (model->inputs_preserved ? 4u : 0u));
    put16(p + 4, timed_operators(model));
    put32(p + 6, model->arena_size);
    put32(p + 10, mg_port_counter_hz());
    put32(p + 14, mg_port_instructions_per_tick());
    put32(p + 18, model->build_id);
    n += put_name(p + n, model->name);
    n += put_name(p + n, mg_port_board_name());
    n += put_name(p + n, mg_port_core_name());
    return (int)n;
}

static int handle_tensor_info(mg_rpc_server *s, uint8_t *p, uint32_t length, const char **reason)
{
    const mg_tensor_desc *tensor;
    uint32_t rank, i, bits;
    if (length != 2) FAIL(MG_RPC_BAD_LENGTH, "TENSOR_INFO takes direction, index");
    tensor = find_tensor(s->model, p[0], p[1]);
    if (tensor == 0) FAIL(MG_RPC_BAD_INDEX, "no such tensor");
    rank = tensor->rank <= MG_RPC_MAX_RANK ? tensor->rank : MG_RPC_MAX_RANK;
    p[2] = tensor->dtype;
    p[3] = (uint8_t)rank;
    for (i = 0; i < rank; i++) put32(p + 4 + 4 * i, tensor->dims[i]);
    p += 4 + 4 * rank;
    memcpy(&bits, &tensor->scale, sizeof bits);
    put32(p, bits);
    put32(p + 4, (uint32_t)tensor->zero_point);
    put32(p + 8, tensor->size);
    return (int)(16 + 4 * rank);
}

static int handle_write_input(mg_rpc_server *s, uint8_t *p, uint32_t length, const char **reason)
{
    const mg_tensor_desc *tensor;
    uint32_t offset, count;
    if (length < 6) FAIL(MG_RPC_BAD_LENGTH, "WRITE_INPUT needs index, offset and data");
    tensor = find_tensor(s->model, 0, p[0]);
    if (tensor == 0) FAIL(MG_RPC_BAD_INDEX, "no such input");
    offset = get32(p + 1);
    count = length - 5;
    if (!in_tensor(s->model, tensor, offset, count)) FAIL(MG_RPC_BAD_OFFSET, "past the end of the input");
    memcpy(s->model->arena + tensor->offset + offset, p + 5, count);
    if (offset + count == tensor->size && p[0] < 32) s->inputs_written |= 1u << p[0];
    put16(p + 5, count);
    return 7;
}

/* The reply of the RUN just answered (runs, operators, total): a retry gets it again. */
static int run_reply(mg_rpc_server *s, uint8_t *p)
{
    put16(p, s->answered_runs);
    put16(p + 2, timed_operators(s->model));
    put64(p + 4, s->answered_total);
    return 12;
}

/* True when every input has been written again since a run overwrote them. */
static int inputs_renewed(const mg_rpc_server *s)
{
    const uint32_t n = s->model->num_inputs;
    const uint32_t all = n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u;
    return (s->inputs_written & all) == all;
}

static int handle_run(mg_rpc_server *s, uint8_t seq, uint8_t *p, uint32_t length, const char **reason)
{
    const mg_model_desc *model = s->model;
    uint32_t runs, run, operators = timed_operators(model), i;
    uint64_t total = 0;
    int status = 0;
    if (length != 2) FAIL(MG_RPC_BAD_LENGTH, "RUN takes runs");
    runs = get16(p);
    if (seq != 0 && seq == s->run_seq && runs == s->answered_runs) return run_reply(s, p);
    s->run_seq = 0;
    if (runs == 0) FAIL(MG_RPC_BAD_LENGTH, "runs must be at least 1");
    if (model->run == 0 || model->arena == 0) FAIL(MG_RPC_MODEL_ERROR, "no model");
    if (s->inputs_stale && !inputs_renewed(s)) FAIL(MG_RPC_INPUT_STALE, "the last run overwrote the inputs: write them again");
    if (runs > 1 && !model->inputs_preserved) FAIL(MG_RPC_INPUT_STALE, "this model overwrites its inputs: run once per upload");
    for (i = 0; i < operators; i++) model->operator_ticks[i] = 0;
    profile_ticks = model->operator_ticks;
    profile_operators = operators;
    for (run = 0; run < runs && status == 0; run++) {
        uint32_t start = mg_port_counter();
        status = model->run(model->arena);
        total += (uint32_t)(mg_port_counter() - start);
        if (status == 0) s->runs_completed++;
    }
    profile_ticks = 0;
    profile_operators = 0;
    s->inputs_stale = !model->inputs_preserved;
    s->inputs_written = 0;
    if (status != 0) FAIL(MG_RPC_MODEL_ERROR, "the run function failed");
    s->run_seq = seq;
    s->answered_runs = (uint16_t)runs;
    s->answered_total = total;
    return run_reply(s, p);
}

static int handle_read_timings(mg_rpc_server *s, uint8_t *p, uint32_t length, const char **reason)
{
    uint32_t first, count, i;
    if (length != 3) FAIL(MG_RPC_BAD_LENGTH, "READ_TIMINGS takes first, count");
    first = get16(p);
    count = p[2];
    if (count > MAX_TIMINGS_PER_READ) FAIL(MG_RPC_BAD_LENGTH, "at most 30 timings per read");
    if (first + count > timed_operators(s->model)) FAIL(MG_RPC_BAD_INDEX, "no such operator");
    for (i = 0; i < count; i++) put64(p + 3 + 8 * i, s->model->operator_ticks[first + i]);
    return (int)(3 + 8 * count);
}

static int handle_read_output(mg_rpc_server *s, uint8_t *p, uint32_t length, const char **reason)
{
    const mg_tensor_desc *tensor;
    uint32_t offset, count;
    if (length != 7) FAIL(MG_RPC_BAD_LENGTH, "READ_OUTPUT takes index, offset, length");
    offset = get32(p + 1);
    count = get16(p + 5);
    if (count == 0 || count > MG_RPC_MAX_PAYLOAD) FAIL(MG_RPC_BAD_LENGTH, "length must be 1..256");
    tensor = find_tensor(s->model, 1, p[0]);
    if (tensor == 0) FAIL(MG_RPC_BAD_INDEX, "no such output");
    if (!in_tensor(s->model, tensor, offset, count)) FAIL(MG_RPC_BAD_OFFSET, "past the end of the output");
    memcpy(p, s->model->arena + tensor->offset + offset, count);
    return (int)count;
}

static int handle_status(mg_rpc_server *s, uint8_t *p, uint32_t length, const char **reason)
{
    if (length != 0) FAIL(MG_RPC_BAD_LENGTH, "STATUS takes no payload");
    put32(p, mg_port_stack_high_water());
    put32(p + 4, mg_port_stack_size());
    put32(p + 8, s->runs_completed);
    p[12] = s->last_error;
    return 13;
}

/* Answers a frame that passed the framing and CRC checks. */
static void dispatch(mg_rpc_server *s, uint8_t type, uint8_t seq, uint32_t length)
{
    uint8_t *p = s->frame + 4;
    const char *reason = "unknown message type";
    int result = -MG_RPC_UNKNOWN_MESSAGE;
    /* Only a RUN that follows its own answer at once is a retry of it. */
    if (type != MG_RPC_RUN) s->run_seq = 0;
    switch (type) {
    case MG_RPC_ECHO: result = (int)length; break;
    case MG_RPC_INFO: result = handle_info(s, p, length, &reason); break;
    case MG_RPC_TENSOR_INFO: result = handle_tensor_info(s, p, length, &reason); break;
    case MG_RPC_WRITE_INPUT: result = handle_write_input(s, p, length, &reason); break;
    case MG_RPC_RUN: result = handle_run(s, seq, p, length, &reason); break;
    case MG_RPC_READ_TIMINGS: result = handle_read_timings(s, p, length, &reason); break;
    case MG_RPC_READ_OUTPUT: result = handle_read_output(s, p, length, &reason); break;
    case MG_RPC_STATUS: result = handle_status(s, p, length, &reason); break;
    default: break;
    }
    if (result < 0) {
        send_error(s, (uint8_t)-result, type, seq, reason);
    } else {
        send_frame(s, (uint8_t)(type | MG_RPC_REPLY), seq, (uint32_t)result);
    }
}

/* ---- Receiving ---- */

/* The closing flag of a non-empty body: check it, then answer it. */
static void end_frame(mg_rpc_server *s)
{
    uint32_t n = s->rx_length;
    uint8_t type = n >= 1 ? s->frame[0] : 0;
    uint8_t seq = n >= 2 ? s->frame[1] : 0;
    if (s->rx_state == RX_DISCARD) {
        send_error(s, s->rx_error, type, seq, s->rx_error == MG_RPC_FRAME_TOO_LONG ? "frame too long" : "bad escape");
    } else if (s->rx_state == RX_ESCAPED) {
        send_error(s, MG_RPC_BAD_FRAME, type, seq, "escape before flag");
    } else if (n < 6) {
        send_error(s, MG_RPC_BAD_FRAME, type, seq, "frame too short");
    } else if (get16(s->frame + 2) != n - 6) {
        send_error(s, MG_RPC_BAD_FRAME, type, seq, "length disagrees with frame");
    } else if (mg_rpc_crc16(s->frame, n - 2) != get16(s->frame + n - 2)) {
        send_error(s, MG_RPC_BAD_CRC, type, seq, "bad crc");
    } else {
        dispatch(s, type, seq, n - 6);
    }
}

static void discard(mg_rpc_server *s, uint8_t error)
{
    s->rx_state = RX_DISCARD;
    s->rx_error = error;
}

void mg_rpc_init(mg_rpc_server *server, const mg_model_desc *model)
{
    memset(server, 0, sizeof *server);
    server->model = model;
    server->rx_state = RX_HUNT;
}

void mg_rpc_feed(mg_rpc_server *s, uint8_t byte)
{
    if (byte == FLAG) {
        if (s->rx_state != RX_HUNT && (s->rx_length > 0 || s->rx_state != RX_BODY)) end_frame(s);
        s->rx_state = RX_BODY;
        s->rx_length = 0;
        return;
    }
    switch (s->rx_state) {
    case RX_HUNT:
    case RX_DISCARD:
        return;
    case RX_ESCAPED:
        if (byte != (FLAG ^ ESCAPE_XOR) && byte != (ESCAPE ^ ESCAPE_XOR)) {
            discard(s, MG_RPC_BAD_FRAME);
            return;
        }
        byte ^= ESCAPE_XOR;
        s->rx_state = RX_BODY;
        break;
    default:
        if (byte == ESCAPE) {
            s->rx_state = RX_ESCAPED;
            return;
        }
        break;
    }
    if (s->rx_length >= sizeof s->frame) {
        discard(s, MG_RPC_FRAME_TOO_LONG);
        return;
    }
    s->frame[s->rx_length++] = byte;
}

void mg_rpc_serve(const mg_model_desc *model)
{
    /* Static, not on the stack: the frame buffer is the biggest thing the runtime owns. */
    static mg_rpc_server server;
    mg_rpc_init(&server, model);
    for (;;) {
        int byte = mg_port_read_byte();
        if (byte < 0) return;
        mg_rpc_feed(&server, (uint8_t)byte);
    }
}
