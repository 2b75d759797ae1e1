/* The host board: the program's stdin/stdout is the serial line and the counter is
 * CLOCK_MONOTONIC in nanoseconds. Lets the RPC runtime and its driver be tested without a
 * microcontroller. */
#define _POSIX_C_SOURCE 200112L

#include "mg_port.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

/* Input is read in blocks: one read() per byte would dominate the cost of an upload. */
static uint8_t input[512];
static size_t input_length;
static size_t input_next;

void mg_port_init(void) {}

int mg_port_read_byte(void)
{
    while (input_next == input_length) {
        ssize_t got = read(0, input, sizeof input);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        input_length = (size_t)got;
        input_next = 0;
    }
    return input[input_next++];
}

void mg_port_write(const uint8_t *data, uint32_t length)
{
    while (length > 0) {
        ssize_t put = write(1, data, length);
        if (put < 0 && errno == EINTR) continue;
        /* The driver went away: nothing left to tell it; the next read sees end of input. */
        if (put <= 0) return;
        data += put;
        length -= (uint32_t)put;
    }
}

uint32_t mg_port_counter(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Truncated to 32 bits: differences stay right across a wrap (every ~4.3 s). */
    return (uint32_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
}

uint32_t mg_port_counter_hz(void) { return 1000000000u; }

uint32_t mg_port_counter_flags(void) { return 0; }

uint32_t mg_port_instructions_per_tick(void) { return 0; }

/* A host process's stack is not painted: unknown. */
uint32_t mg_port_stack_high_water(void) { return 0; }

uint32_t mg_port_stack_size(void) { return 0; }

const char *mg_port_board_name(void) { return "host"; }

const char *mg_port_core_name(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__arm__)
    return "arm";
#elif defined(__i386__)
    return "i386";
#else
    return "unknown";
#endif
}
