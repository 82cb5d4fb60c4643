/* Runs ei_max_pool2d / ei_avg_pool2d outside Python, so pooling can be checked
 * when built for another architecture (and run under an emulator).
 *
 * usage: pool_main AVERAGE PLANES H W OH OW KH KW SH SW DH DW PT PL PB PR INCLUDE_PAD
 *        < x.f32 (PLANES*H*W) > y.f32 (PLANES*OH*OW) */
#include <stdio.h>
#include <stdlib.h>

#include "pool.h"

int main(int argc, char **argv)
{
    ei_pool2d_params p;
    int f[17], i, status;
    size_t nx, ny;
    float *x, *y;
    if (argc != 18) {
        fprintf(stderr, "usage: %s AVERAGE PLANES H W OH OW KH KW SH SW DH DW PT PL PB PR "
                        "INCLUDE_PAD\n", argv[0]);
        return 2;
    }
    for (i = 0; i < 17; i++)
        f[i] = atoi(argv[i + 1]);
    p.planes = f[1];
    p.in_height = f[2];
    p.in_width = f[3];
    p.out_height = f[4];
    p.out_width = f[5];
    p.kernel_h = f[6];
    p.kernel_w = f[7];
    p.stride_h = f[8];
    p.stride_w = f[9];
    p.dilation_h = f[10];
    p.dilation_w = f[11];
    p.pad_top = f[12];
    p.pad_left = f[13];
    p.pad_bottom = f[14];
    p.pad_right = f[15];
    p.count_include_pad = f[16];
    nx = (size_t)p.planes * p.in_height * p.in_width;
    ny = (size_t)p.planes * p.out_height * p.out_width;
    x = (float *)malloc((nx ? nx : 1) * sizeof(float));
    y = (float *)malloc((ny ? ny : 1) * sizeof(float));
    if (x == NULL || y == NULL || fread(x, sizeof(float), nx, stdin) != nx) {
        fprintf(stderr, "short input\n");
        return 1;
    }
    status = f[0] ? ei_avg_pool2d(&p, x, y) : ei_max_pool2d(&p, x, y);
    if (status != 0) {
        fprintf(stderr, "pool2d returned %d\n", status);
        return 1;
    }
    fwrite(y, sizeof(float), ny, stdout);
    free(x);
    free(y);
    return 0;
}
