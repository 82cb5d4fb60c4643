/* Runs ei_conv2d outside Python, so the convolution core can be checked when
 * built for another architecture (and run under an emulator).
 *
 * usage: conv2d_main N C H W M KH KW SH SW DH DW PT PL PB PR GROUPS CLAMP DEPTHWISE DENSE
 *        POINTWISE < x.f32 w.f32 bias.f32 > y.f32
 * CLAMP 0: none, 1: ReLU6; DEPTHWISE -1: by shape, 0: rows, 1: flat, 2: channel-blocked,
 * 3: channel-blocked in bands of two output rows;
 * DENSE -1: by shape, 0: im2col, 1: indirect row by row, 2: indirect in bands of rows;
 * POINTWISE -1: packed weights when given, 0: weights as given, 1: packed for the call,
 * 2: packed once beforehand with ei_conv2d_pointwise_pack (a 1x1 convolution without
 * groups). Reads N*C*H*W inputs, M*C/GROUPS*KH*KW weights and M biases; writes the
 * output. */
#include <stdio.h>
#include <stdlib.h>

#include "conv2d.h"
#include "depthwise_blocked.h"
#include "read_input.h"

/* n floats from stdin, or NULL when short */
#define read_floats(n) ((float *)read_bytes((n) * sizeof(float)))

int main(int argc, char **argv)
{
    ei_conv2d_params p;
    int fields[20], i, ho, wo, level = 0, status;
    size_t nx, nw, ny;
    float *x, *w, *bias, *y, *packed = NULL;
    if (argc != 21) {
        fprintf(stderr, "usage: %s N C H W M KH KW SH SW DH DW PT PL PB PR GROUPS CLAMP "
                        "DEPTHWISE DENSE POINTWISE\n", argv[0]);
        return 2;
    }
    for (i = 0; i < 20; i++)
        fields[i] = atoi(argv[i + 1]);
    p.batch = fields[0];
    p.in_channels = fields[1];
    p.in_height = fields[2];
    p.in_width = fields[3];
    p.out_channels = fields[4];
    p.kernel_h = fields[5];
    p.kernel_w = fields[6];
    p.stride_h = fields[7];
    p.stride_w = fields[8];
    p.dilation_h = fields[9];
    p.dilation_w = fields[10];
    p.pad_top = fields[11];
    p.pad_left = fields[12];
    p.pad_bottom = fields[13];
    p.pad_right = fields[14];
    p.groups = fields[15];
    p.clamp = fields[16];
    p.lo = 0.0f;
    p.hi = 6.0f;
    ei_depthwise_blocked_force_band_rows(fields[17] == 3 ? 2 : 0);
    if (ei_conv2d_force_depthwise(fields[17] == 3 ? 2 : fields[17]) != 0 ||
        ei_conv2d_force_indirect(fields[18]) != 0 ||
        ei_conv2d_force_pointwise(fields[19] == 2 ? -1 : fields[19]) != 0 ||
        ei_conv2d_output_size(&p, &ho, &wo) != 0) {
        fprintf(stderr, "invalid parameters\n");
        return 2;
    }
    nx = (size_t)p.batch * p.in_channels * p.in_height * p.in_width;
    nw = (size_t)p.out_channels * (p.in_channels / p.groups) * p.kernel_h * p.kernel_w;
    ny = (size_t)p.batch * p.out_channels * ho * wo;
    x = read_floats(nx);
    w = read_floats(nw);
    bias = read_floats((size_t)p.out_channels);
    y = (float *)malloc(ny * sizeof(float));
    if (x == NULL || w == NULL || bias == NULL || y == NULL) {
        fprintf(stderr, "could not read the operands\n");
        return 1;
    }
    if (fields[19] == 2 && p.kernel_h == 1 && p.kernel_w == 1 && p.groups == 1) {
        packed = (float *)malloc(sizeof(float) *
                                 ei_conv2d_pointwise_packed_size(p.out_channels, p.in_channels));
        if (packed == NULL)
            return 1;
        level = ei_conv2d_pointwise_pack(p.out_channels, p.in_channels, w, packed);
    }
    status = ei_conv2d_residual_packed(&p, x, w, packed, level, bias, NULL, y);
    if (status != 0) {
        fprintf(stderr, "ei_conv2d failed\n");
        return 1;
    }
    fwrite(y, sizeof(float), ny, stdout);
    free(x);
    free(w);
    free(bias);
    free(y);
    free(packed);
    return 0;
}
