/* Runs the QDQ kernels outside Python, so they can be checked when built for
 * another architecture (and run under an emulator).
 *
 * usage: qdq_main quantize N SCALE ZERO          < x.f32 (N)        > y.u8 (N)
 *        qdq_main dequantize N SCALE ZERO        < x.u8 (N)         > y.f32 (N)
 *        qdq_main qadd N A_ZERO A_RATIO B_ZERO B_RATIO Y_ZERO < a.u8 b.u8 > y.u8
 * Floats are given with 9 significant digits, which read back exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdq.h"
#include "read_input.h"

int main(int argc, char **argv)
{
    long n;
    if (argc < 5)
        return 2;
    n = atol(argv[2]);
    if (strcmp(argv[1], "quantize") == 0 || strcmp(argv[1], "dequantize") == 0) {
        const int quantize = argv[1][0] == 'q';
        void *x = read_bytes((size_t)n * (quantize ? sizeof(float) : 1));
        void *y = malloc((size_t)(n ? n : 1) * (quantize ? 1 : sizeof(float)));
        if (x == NULL || y == NULL)
            return 1;
        if (quantize)
            ei_quantize_u8(n, x, strtof(argv[3], NULL), atoi(argv[4]), y);
        else
            ei_dequantize_u8(n, x, strtof(argv[3], NULL), atoi(argv[4]), y);
        fwrite(y, quantize ? 1 : sizeof(float), (size_t)n, stdout);
        free(x), free(y);
        return 0;
    }
    if (strcmp(argv[1], "qadd") == 0 && argc == 8) {
        uint8_t *a = read_bytes((size_t)n), *b = read_bytes((size_t)n), *y = malloc(n ? n : 1);
        if (a == NULL || b == NULL || y == NULL)
            return 1;
        ei_qadd_u8(n, a, atoi(argv[3]), strtof(argv[4], NULL), b, atoi(argv[5]),
                   strtof(argv[6], NULL), atoi(argv[7]), y);
        fwrite(y, 1, (size_t)n, stdout);
        free(a), free(b), free(y);
        return 0;
    }
    return 2;
}
