/* pthread keys are POSIX, not C99 */
#define _POSIX_C_SOURCE 200112L

#include "scratch.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    void *raw[EI_SCRATCH_SLOTS];
    void *aligned[EI_SCRATCH_SLOTS];
    size_t size[EI_SCRATCH_SLOTS];
} scratch_blocks;

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* a thread's blocks go when the thread does (Python threads come and go) */
static void release(void *blocks)
{
    scratch_blocks *s = (scratch_blocks *)blocks;
    int i;
    for (i = 0; i < EI_SCRATCH_SLOTS; i++)
        free(s->raw[i]);
    free(s);
}

static void make_key(void)
{
    (void)pthread_key_create(&key, release);
}

void *ei_scratch(int slot, size_t bytes)
{
    scratch_blocks *s;
    if (slot < 0 || slot >= EI_SCRATCH_SLOTS)
        return NULL;
    (void)pthread_once(&key_once, make_key);
    s = (scratch_blocks *)pthread_getspecific(key);
    if (s == NULL) {
        s = (scratch_blocks *)calloc(1, sizeof(scratch_blocks));
        if (s == NULL || pthread_setspecific(key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (bytes > s->size[slot] || s->raw[slot] == NULL) {
        void *raw = malloc(bytes + 64);
        if (raw == NULL)
            return NULL;
        free(s->raw[slot]);
        s->raw[slot] = raw;
        s->aligned[slot] = (void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
        s->size[slot] = bytes;
    }
    return s->aligned[slot];
}
