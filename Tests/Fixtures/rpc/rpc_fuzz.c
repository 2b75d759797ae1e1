/* Seeded random-frame fuzz test of the RPC server (templates/runtime/mg_rpc.c).
 *
 * Feeds random bytes, valid requests with random and boundary-value fields, and valid frames
 * with corruptions (flipped bits, dropped, inserted and duplicated bytes, stray flags and
 * escapes, bad CRCs, wrong length fields, frames over 256 bytes) to mg_rpc_feed(). Every reply
 * is decoded and checked as it is written; a clean request must get exactly one reply with its
 * seq; at the end the server must still answer an ECHO. Exits 0 when all is well.
 *
 * Build and run (the test RuntimeFuzzTests does this):
 *   cc -std=c99 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
 *      -I templates/runtime Tests/Fixtures/rpc/rpc_fuzz.c Tests/Fixtures/rpc/rpc_stub.c \
 *      templates/runtime/mg_rpc.c -o rpc_fuzz
 *   ./rpc_fuzz [seed] [bytes]          (defaults: seed 1, 200000 bytes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_rpc.h"
#include "rpc_stub.h"

static uint64_t rng_state;

static uint32_t next_random(void)
{
    /* xorshift64*: reproducible from the seed on every platform. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t below(uint32_t n) { return next_random() % n; }

/* Mostly values at the edges of what the stub model accepts, sometimes anything. */
static uint32_t edgy(const uint32_t *edges, uint32_t count)
{
    return below(4) == 0 ? next_random() >> below(32) : edges[below(count)];
}

static mg_rpc_server server;
static unsigned long fed;
static unsigned long frames;
static uint8_t seq;

static void feed(const uint8_t *data, size_t length)
{
    size_t i;
    for (i = 0; i < length; i++) mg_rpc_feed(&server, data[i]);
    fed += length;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

/* A request with random, mostly plausible fields; returns the payload length. */
static size_t random_request(uint8_t *type, uint8_t *payload)
{
    static const uint32_t offsets[] = { 0, 1, 5, 9, 10, 11, 15, 16, 19, 20, 21, 299, 300, 0xFFFFFFFFu, 0xFFFFFFF0u, 0x80000000u };
    static const uint32_t lengths[] = { 0, 1, 2, 5, 10, 16, 20, 21, 251, 256, 257, 300, 65535 };
    size_t length = 0, i;
    *type = (uint8_t)(below(10) == 0 ? next_random() : 1 + below(8));
    switch (*type) {
    case MG_RPC_ECHO: length = below(257); break;
    case MG_RPC_INFO:
    case MG_RPC_STATUS: length = below(8) == 0 ? 1 + below(4) : 0; break;
    case MG_RPC_TENSOR_INFO:
        payload[0] = (uint8_t)below(3);
        payload[1] = (uint8_t)(below(8) == 0 ? next_random() : below(5));
        length = below(8) == 0 ? below(4) : 2;
        return length;
    case MG_RPC_WRITE_INPUT:
        payload[0] = (uint8_t)(below(8) == 0 ? next_random() : below(3));
        put32(payload + 1, edgy(offsets, sizeof offsets / sizeof *offsets));
        length = 5 + (below(4) == 0 ? below(252) : below(12));
        for (i = 5; i < length; i++) payload[i] = (uint8_t)next_random();
        return length;
    case MG_RPC_RUN:
        put16(payload, below(50) == 0 ? 1000 : below(5));
        length = below(8) == 0 ? below(4) : 2;
        return length;
    case MG_RPC_READ_TIMINGS:
        put16(payload, below(8) == 0 ? next_random() : below(7));
        payload[2] = (uint8_t)(below(8) == 0 ? next_random() : below(32));
        length = below(8) == 0 ? below(5) : 3;
        return length;
    case MG_RPC_READ_OUTPUT:
        payload[0] = (uint8_t)(below(8) == 0 ? next_random() : below(4));
        put32(payload + 1, edgy(offsets, sizeof offsets / sizeof *offsets));
        put16(payload + 5, edgy(lengths, sizeof lengths / sizeof *lengths));
        length = below(8) == 0 ? below(9) : 7;
        return length;
    default: length = below(40); break;
    }
    for (i = 0; i < length; i++) payload[i] = (uint8_t)next_random();
    return length;
}

/* Sends a valid request on a clean line and checks it gets exactly one fitting reply. */
static void clean_request(void)
{
    static uint8_t payload[512], wire[2 * (512 + 6) + 2];
    uint8_t type;
    size_t length = random_request(&type, payload);
    size_t n = rpc_stub_encode(wire, type, ++seq, payload, length);
    unsigned long before;
    feed(wire, 1); /* the opening flag closes whatever garbage came before */
    before = rpc_stub_replies;
    feed(wire + 1, n - 1);
    frames++;
    if (rpc_stub_replies != before + 1) rpc_stub_fail("a clean request did not get exactly one reply");
    if (rpc_stub_last_reply.seq != seq) rpc_stub_fail("a reply carries the wrong seq");
    if (rpc_stub_last_reply.type == MG_RPC_ERROR) {
        uint8_t code = rpc_stub_last_reply.payload[0];
        if (code <= MG_RPC_FRAME_TOO_LONG) rpc_stub_fail("a clean frame was rejected as damaged");
        if (rpc_stub_last_reply.payload[1] != type) rpc_stub_fail("an error names the wrong request type");
        if (type >= 1 && type <= 8 && code == MG_RPC_UNKNOWN_MESSAGE) rpc_stub_fail("a known message was called unknown");
        return;
    }
    if (rpc_stub_last_reply.type != (type | MG_RPC_REPLY)) rpc_stub_fail("a reply has the wrong type");
    if (type == MG_RPC_ECHO && (rpc_stub_last_reply.length != length || memcmp(rpc_stub_last_reply.payload, payload, length) != 0)) {
        rpc_stub_fail("ECHO did not echo");
    }
    if (type == MG_RPC_INFO && (memcmp(rpc_stub_last_reply.payload + 22, "\x0astub_model\x20" "a-board-name-longer-than-thirty-", 44) != 0)) {
        rpc_stub_fail("INFO names are wrong");
    }
    if (type == MG_RPC_READ_OUTPUT && payload[0] == 1) rpc_stub_fail("read an output that reaches past the arena");
    if (type == MG_RPC_READ_OUTPUT && rpc_stub_last_reply.length != (payload[5] | payload[6] << 8)) {
        rpc_stub_fail("READ_OUTPUT returned the wrong length");
    }
}

/* Stuffs an arbitrary body between flags. */
static size_t stuff(uint8_t *out, const uint8_t *body, size_t length)
{
    size_t n = 0, i;
    out[n++] = 0x7E;
    for (i = 0; i < length; i++) {
        if (body[i] == 0x7E || body[i] == 0x7D) {
            out[n++] = 0x7D;
            out[n++] = body[i] ^ 0x20;
        } else {
            out[n++] = body[i];
        }
    }
    out[n++] = 0x7E;
    return n;
}

/* A damaged frame on a clean line: the reply must be this error code, with the frame's seq. */
static void expect_error(const uint8_t *wire, size_t n, uint8_t code, uint8_t expected_seq)
{
    unsigned long before;
    feed(wire, 1);
    before = rpc_stub_replies;
    feed(wire + 1, n - 1);
    frames++;
    if (rpc_stub_replies != before + 1 || rpc_stub_last_reply.type != MG_RPC_ERROR || rpc_stub_last_reply.payload[0] != code
        || rpc_stub_last_reply.seq != expected_seq) {
        fprintf(stderr, "expected error %u with seq %u; got type 0x%02x code %u seq %u after %lu replies (was %lu)\n", code,
                expected_seq, rpc_stub_last_reply.type, rpc_stub_last_reply.payload[0], rpc_stub_last_reply.seq,
                rpc_stub_replies, before);
        rpc_stub_fail("a damaged frame got the wrong answer");
    }
}

static void damaged_frame(void)
{
    static uint8_t body[1100], wire[2 * 1100 + 2], payload[1024];
    size_t length, i, n;
    uint16_t crc;
    ++seq;
    switch (below(4)) {
    case 0: /* over 256 payload bytes */
        length = 257 + below(700);
        for (i = 0; i < length; i++) payload[i] = (uint8_t)next_random();
        n = rpc_stub_encode(wire, MG_RPC_ECHO, seq, payload, length);
        expect_error(wire, n, MG_RPC_FRAME_TOO_LONG, seq);
        break;
    case 1: /* a length field that disagrees with the bytes, under a good CRC */
        length = below(40);
        body[0] = MG_RPC_ECHO;
        body[1] = seq;
        put16(body + 2, (uint32_t)length + 1 + below(300));
        for (i = 0; i < length; i++) body[4 + i] = (uint8_t)next_random();
        crc = rpc_stub_crc16(body, 4 + length);
        put16(body + 4 + length, crc);
        n = stuff(wire, body, 6 + length);
        expect_error(wire, n, MG_RPC_BAD_FRAME, seq);
        break;
    case 2: /* a bad CRC */
        length = below(40);
        for (i = 0; i < length; i++) payload[i] = (uint8_t)next_random();
        body[0] = MG_RPC_ECHO;
        body[1] = seq;
        put16(body + 2, (uint32_t)length);
        memcpy(body + 4, payload, length);
        crc = (uint16_t)(rpc_stub_crc16(body, 4 + length) ^ (1u + below(0xFFFF)));
        put16(body + 4 + length, crc);
        n = stuff(wire, body, 6 + length);
        expect_error(wire, n, MG_RPC_BAD_CRC, seq);
        break;
    default: /* a bad escape after the seq */
        length = below(20);
        for (i = 0; i < length; i++) payload[i] = (uint8_t)next_random();
        n = rpc_stub_encode(wire, MG_RPC_ECHO, seq, payload, length);
        if (wire[1] == 0x7D || wire[2] == 0x7D) return; /* type or seq needed escaping: keep it simple */
        memmove(wire + 4, wire + 3, n - 3);
        wire[3] = 0x7D;
        wire[4] = (uint8_t)(0x7D == wire[4] || 0x7E == wire[4] || wire[4] == 0x5E || wire[4] == 0x5D ? 0x41 : wire[4]);
        expect_error(wire, n + 1, MG_RPC_BAD_FRAME, seq);
        break;
    }
}

/* A valid frame, then mangled at random; the reply checker is the only judge. */
static void mangled_frame(void)
{
    static uint8_t payload[512], wire[4096];
    uint8_t type;
    size_t length = random_request(&type, payload);
    size_t n = rpc_stub_encode(wire, type, ++seq, payload, length);
    int edits = 1 + (int)below(3), e;
    for (e = 0; e < edits && n > 0; e++) {
        size_t at = below((uint32_t)n);
        switch (below(6)) {
        case 0: wire[at] ^= (uint8_t)(1u << below(8)); break;
        case 1: memmove(wire + at, wire + at + 1, n - at - 1); n--; break;
        case 2:
            memmove(wire + at + 1, wire + at, n - at);
            wire[at] = (uint8_t)(below(2) ? next_random() : (below(2) ? 0x7E : 0x7D));
            n++;
            break;
        case 3: n = at; break;
        case 4:
            if (n < 2048) {
                memcpy(wire + n, wire + at, n - at);
                n += n - at;
            }
            break;
        default: wire[at] = below(2) ? 0x7E : 0x7D; break;
        }
    }
    frames++;
    feed(wire, n);
}

static void garbage(void)
{
    uint8_t bytes[64];
    size_t length = 1 + below(64), i;
    for (i = 0; i < length; i++) {
        uint32_t r = below(8);
        bytes[i] = (uint8_t)(r == 0 ? 0x7E : r == 1 ? 0x7D : next_random());
    }
    feed(bytes, length);
}

static void check_crc(void)
{
    static const uint8_t check[] = "123456789";
    uint8_t data[300];
    int round;
    size_t i;
    if (mg_rpc_crc16(check, 9) != 0x29B1 || rpc_stub_crc16(check, 9) != 0x29B1) rpc_stub_fail("CRC check value is not 0x29B1");
    for (round = 0; round < 200; round++) {
        size_t length = below(sizeof data);
        for (i = 0; i < length; i++) data[i] = (uint8_t)next_random();
        if (mg_rpc_crc16(data, (uint32_t)length) != rpc_stub_crc16(data, length)) rpc_stub_fail("CRCs disagree");
    }
}

/* The server still works: a plain ECHO after a flag gets its echo. */
static void check_alive(void)
{
    static const uint8_t hello[] = "still alive";
    uint8_t wire[64];
    size_t n = rpc_stub_encode(wire, MG_RPC_ECHO, 0xA5, hello, sizeof hello - 1);
    feed(wire, n);
    if (rpc_stub_last_reply.type != (MG_RPC_ECHO | MG_RPC_REPLY) || rpc_stub_last_reply.seq != 0xA5
        || rpc_stub_last_reply.length != sizeof hello - 1 || memcmp(rpc_stub_last_reply.payload, hello, sizeof hello - 1) != 0) {
        rpc_stub_fail("the final ECHO was not answered");
    }
    /* And through the serve loop, which must return at the end of input. */
    rpc_stub_set_input(wire, n);
    mg_rpc_serve(&rpc_stub_model);
    if (rpc_stub_last_reply.seq != 0xA5 || rpc_stub_last_reply.type != (MG_RPC_ECHO | MG_RPC_REPLY)) {
        rpc_stub_fail("mg_rpc_serve did not answer the ECHO");
    }
}

int main(int argc, char **argv)
{
    unsigned long seed = argc > 1 ? strtoul(argv[1], 0, 0) : 1;
    unsigned long target = argc > 2 ? strtoul(argv[2], 0, 0) : 200000;
    rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)seed;
    if (rng_state == 0) rng_state = 1;
    check_crc();
    mg_rpc_init(&server, &rpc_stub_model);
    while (fed < target) {
        uint32_t r = below(100);
        if (r < 15) {
            garbage();
        } else if (r < 55) {
            clean_request();
        } else if (r < 85) {
            mangled_frame();
        } else {
            damaged_frame();
        }
    }
    check_alive();
    printf("rpc fuzz: seed %lu, %lu bytes, %lu frames, %lu replies; errors: crc %lu, frame %lu, too long %lu, unknown %lu, "
           "index %lu, offset %lu, length %lu, model %lu, input stale %lu; ok\n",
           seed, fed, frames, rpc_stub_replies, rpc_stub_errors[1], rpc_stub_errors[2], rpc_stub_errors[3], rpc_stub_errors[4],
           rpc_stub_errors[5], rpc_stub_errors[6], rpc_stub_errors[7], rpc_stub_errors[8], rpc_stub_errors[9]);
    return 0;
}
