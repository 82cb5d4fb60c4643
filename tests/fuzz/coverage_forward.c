/* gcc's libasan carries do-nothing weak stand-ins for the coverage callbacks
 * that libFuzzer implements. Preloaded, libasan comes first in symbol lookup,
 * so atheris' own libFuzzer never hears of the Python coverage atheris records
 * and the fuzzer runs blind. Preloaded ahead of libasan, this library forwards
 * those callbacks to the libFuzzer inside atheris (ATHERIS_CORE, the path of
 * atheris' core_with_libfuzzer module). Built by tools/sanitized_core.sh. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

static void *libfuzzer(const char *name)
{
    void *core = dlopen(ATHERIS_CORE, RTLD_NOW | RTLD_NOLOAD);
    return core ? dlsym(core, name) : NULL;
}

#define FORWARD(name, params, args)                            \
    void name params;                                          \
    void name params                                           \
    {                                                          \
        static void (*target) params;                          \
        if (!target)                                           \
            *(void **)&target = libfuzzer(#name);              \
        if (target)                                            \
            target args;                                       \
    }

FORWARD(__sanitizer_cov_8bit_counters_init, (uint8_t *start, uint8_t *stop), (start, stop))
FORWARD(__sanitizer_cov_pcs_init, (const uintptr_t *start, const uintptr_t *stop), (start, stop))
FORWARD(__sanitizer_cov_trace_cmp1, (uint8_t a, uint8_t b), (a, b))
FORWARD(__sanitizer_cov_trace_cmp2, (uint16_t a, uint16_t b), (a, b))
FORWARD(__sanitizer_cov_trace_cmp4, (uint32_t a, uint32_t b), (a, b))
FORWARD(__sanitizer_cov_trace_cmp8, (uint64_t a, uint64_t b), (a, b))
FORWARD(__sanitizer_cov_trace_const_cmp1, (uint8_t a, uint8_t b), (a, b))
FORWARD(__sanitizer_cov_trace_const_cmp2, (uint16_t a, uint16_t b), (a, b))
FORWARD(__sanitizer_cov_trace_const_cmp4, (uint32_t a, uint32_t b), (a, b))
FORWARD(__sanitizer_cov_trace_const_cmp8, (uint64_t a, uint64_t b), (a, b))
FORWARD(__sanitizer_cov_trace_switch, (uint64_t value, uint64_t *cases), (value, cases))
FORWARD(__sanitizer_cov_trace_div4, (uint32_t value), (value))
FORWARD(__sanitizer_cov_trace_div8, (uint64_t value), (value))
FORWARD(__sanitizer_cov_trace_gep, (uintptr_t index), (index))
FORWARD(__sanitizer_weak_hook_memcmp, (void *pc, const void *a, const void *b, size_t n,
                                       int result), (pc, a, b, n, result))
FORWARD(__sanitizer_weak_hook_strcmp, (void *pc, const char *a, const char *b, int result),
        (pc, a, b, result))
FORWARD(__sanitizer_weak_hook_strncmp, (void *pc, const char *a, const char *b, size_t n,
                                        int result), (pc, a, b, n, result))
