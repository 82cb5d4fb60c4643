/* Runs ei_preprocess outside Python, so the kernel can be checked when built
 * for another architecture (and run under an emulator).
 *
 * usage: preprocess_main H W C OH OW OC RESIZE LAYOUT < frame.u8 > tensor.f32
 * Reads H*W*C bytes; samples the first min(C, 3) channels (C = 4 skips
 * alpha); BGR in, RGB out with mean 100 and std 50 for colour, plain grey
 * otherwise; writes OH*OW*OC floats. */
#include <stdio.h>
#include <stdlib.h>

#include "preprocess.h"

int main(int argc, char **argv)
{
    ei_image_u8 src;
    ei_preprocess_params p = {0};
    size_t in_bytes, out_count;
    uint8_t *frame;
    float *out;
    int c, channels;
    if (argc != 9) {
        fprintf(stderr, "usage: %s H W C OH OW OC RESIZE LAYOUT\n", argv[0]);
        return 2;
    }
    src.height = atoi(argv[1]);
    src.width = atoi(argv[2]);
    channels = atoi(argv[3]);
    p.out_height = atoi(argv[4]);
    p.out_width = atoi(argv[5]);
    p.out_channels = atoi(argv[6]);
    p.resize = (ei_resize_mode)atoi(argv[7]);
    p.layout = (ei_layout)atoi(argv[8]);
    p.out_type = EI_OUT_FLOAT32;
    p.box_height = p.out_height;
    p.box_width = p.out_width;
    src.channels = channels == 1 ? 1 : 3;
    src.pixel_stride = channels;
    src.row_stride = (ptrdiff_t)channels * src.width;
    for (c = 0; c < p.out_channels; c++) {
        if (src.channels == 3)
            p.mix[c][2 - c] = 1.0f / 50.0f;
        else
            p.mix[c][0] = 1.0f / 50.0f;
        p.bias[c] = -100.0f / 50.0f;
    }
    in_bytes = (size_t)src.height * src.width * channels;
    out_count = (size_t)p.out_height * p.out_width * p.out_channels;
    frame = (uint8_t *)malloc(in_bytes);
    out = (float *)malloc(out_count * sizeof(float));
    if (frame == NULL || out == NULL || fread(frame, 1, in_bytes, stdin) != in_bytes) {
        fprintf(stderr, "could not read %lu frame bytes\n", (unsigned long)in_bytes);
        return 1;
    }
    src.data = frame;
    if (ei_preprocess(&src, &p, out) != 0) {
        fprintf(stderr, "ei_preprocess failed\n");
        return 1;
    }
    fwrite(out, sizeof(float), out_count, stdout);
    free(frame);
    free(out);
    return 0;
}
