/* The test drivers' one way to take their arrays from standard input. */
#ifndef EDGEINFER_TEST_READ_INPUT_H
#define EDGEINFER_TEST_READ_INPUT_H

#include <stdio.h>
#include <stdlib.h>

/* n bytes from stdin in a new block (1 byte for n = 0), or NULL when short. */
static void *read_bytes(size_t n)
{
    void *v = malloc(n ? n : 1);
    if (v != NULL && fread(v, 1, n, stdin) != n) {
        free(v);
        return NULL;
    }
    return v;
}

#endif
