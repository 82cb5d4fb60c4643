/* Runs ei_qdwconv outside Python, so the integer depthwise convolution can be
 * checked when built for another architecture (and run under an emulator).
 *
 * usage: qdwconv_main C H W KH KW STRIDE PAD_TOP PAD_LEFT PAD_BOTTOM PAD_RIGHT X_ZERO Y_ZERO LO HI
 *        [LAYOUT] < x.u8 (C*H*W) w.s8 (C*KH*KW) bias.i32 (C) multiplier.f32 (C) > y.u8
 * LAYOUT: -1 by width (the default), 0 planes, 1 channels-last. */
#include <stdio.h>
#include <stdlib.h>

#include "qdwconv.h"
#include "read_input.h"

int main(int argc, char **argv)
{
    int f[14], i, oh, ow;
    uint8_t *x, *y;
    int8_t *w;
    int32_t *bias;
    float *multiplier;
    if (argc != 15 && argc != 16) {
        fprintf(stderr, "usage: %s C H W KH KW STRIDE PAD_TOP PAD_LEFT PAD_BOTTOM PAD_RIGHT "
                        "X_ZERO Y_ZERO LO HI [LAYOUT]\n", argv[0]);
        return 2;
    }
    if (argc == 16 && ei_qdwconv_force_layout(atoi(argv[15])) != 0)
        return 2;
    for (i = 0; i < 14; i++)
        f[i] = atoi(argv[i + 1]);
    oh = (f[1] + f[6] + f[8] - f[3]) / f[5] + 1;
    ow = (f[2] + f[7] + f[9] - f[4]) / f[5] + 1;
    x = read_bytes((size_t)f[0] * f[1] * f[2]);
    w = read_bytes((size_t)f[0] * f[3] * f[4]);
    bias = read_bytes((size_t)f[0] * sizeof *bias);
    multiplier = read_bytes((size_t)f[0] * sizeof *multiplier);
    y = malloc((size_t)f[0] * oh * ow);
    if (x == NULL || w == NULL || bias == NULL || multiplier == NULL || y == NULL) {
        fprintf(stderr, "short input\n");
        return 1;
    }
    if (ei_qdwconv(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], oh, ow, x, f[10], w, bias,
                   multiplier, f[11], f[12], f[13], y) != 0)
        return 1;
    fwrite(y, 1, (size_t)f[0] * oh * ow, stdout);
    free(x), free(w), free(bias), free(multiplier), free(y);
    return 0;
}
