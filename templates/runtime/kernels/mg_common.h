/* Definitions every generated model and kernel shares. */
#ifndef MG_COMMON_H
#define MG_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define MG_ALIGNED(n) __attribute__((aligned(n)))
#else
#define MG_ALIGNED(n)
#endif

#include "mg_fixedpoint.h"

#endif
