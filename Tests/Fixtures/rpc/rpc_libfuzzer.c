/* libFuzzer entry point for the RPC server (optional; needs clang with -fsanitize=fuzzer):
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *      -I templates/runtime Tests/Fixtures/rpc/rpc_libfuzzer.c Tests/Fixtures/rpc/rpc_stub.c \
 *      templates/runtime/mg_rpc.c -o rpc_libfuzzer
 *   ./rpc_libfuzzer -max_total_time=60
 * An input whose first byte is odd is read as records (type, seq, length, payload), each sent
 * as a valid frame, so the fuzzer reaches the handlers without having to guess CRCs; otherwise
 * the bytes go to the server as they are. Every reply is checked as in rpc_fuzz.c. */
#include <stddef.h>
#include <stdint.h>

#include "mg_rpc.h"
#include "rpc_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t wire[1u << 16];

/* Turns records into frames; a short last record takes what is left. */
static size_t frames_from_records(const uint8_t *data, size_t size)
{
    size_t n = 0, at = 0;
    while (at + 3 <= size && n + 2 * (256 + 6) + 2 <= sizeof wire) {
        size_t length = data[at + 2] % 257u;
        if (length > size - at - 3) length = size - at - 3;
        n += rpc_stub_encode(wire + n, data[at], data[at + 1], data + at + 3, length);
        at += 3 + length;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpc_stub_reset();
    if (size > 0 && (data[0] & 1)) {
        rpc_stub_set_input(wire, frames_from_records(data + 1, size - 1));
    } else {
        rpc_stub_set_input(data, size);
    }
    mg_rpc_serve(&rpc_stub_model);
    return 0;
}
