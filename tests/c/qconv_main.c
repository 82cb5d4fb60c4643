/* Runs ei_qconv1x1 outside Python, so the integer convolution can be checked
 * when built for another architecture (and run under an emulator).
 *
 * usage: qconv_main M K H W STRIDE X_ZERO Y_ZERO LO HI [LAYOUT]
 *        < x.u8 (K*H*W) w.s8 (M*K) bias.i32 (M) multiplier.f32 (M) > y.u8
 * LAYOUT: 0 the planes (the default), 1 through the channels-last kernel. */
#include <stdio.h>
#include <stdlib.h>

#include "qconv.h"
#include "read_input.h"

int main(int argc, char **argv)
{
    int f[9], i, oh, ow;
    uint8_t *x, *y;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
    if (argc != 10 && argc != 11) {
        fprintf(stderr, "usage: %s M K H W STRIDE X_ZERO Y_ZERO LO HI [LAYOUT]\n", argv[0]);
        return 2;
    }
    if (argc == 11 && ei_qconv_force_layout(atoi(argv[10])) != 0)
        return 2;
    for (i = 0; i < 9; i++)
        f[i] = atoi(argv[i + 1]);
    oh = (f[2] + f[4] - 1) / f[4];
    ow = (f[3] + f[4] - 1) / f[4];
    x = read_bytes((size_t)f[1] * f[2] * f[3]);
    w = read_bytes((size_t)f[0] * f[1]);
    bias = read_bytes((size_t)f[0] * sizeof *bias);
    multiplier = read_bytes((size_t)f[0] * sizeof *multiplier);
    y = malloc((size_t)f[0] * oh * ow);
    if (x == NULL || w == NULL || bias == NULL || multiplier == NULL || y == NULL) {
        fprintf(stderr, "short input\n");
        return 1;
    }
    if (ei_qconv1x1(f[0], f[1], f[2], f[3], f[4], oh, ow, x, f[5], w, bias, multiplier, f[6],
                    f[7], f[8], y) != 0)
        return 1;
    fwrite(y, 1, (size_t)f[0] * oh * ow, stdout);
    free(x), free(w), free(bias), free(multiplier), free(y);
    return 0;
}
