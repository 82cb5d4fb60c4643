/* Frame to model input in one pass: crop, resize, colour, normalise, layout. */
#ifndef EDGEINFER_PREPROCESS_H
#define EDGEINFER_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    EI_RESIZE_BILINEAR = 0, /* half-pixel centres, no antialiasing (OpenCV INTER_LINEAR) */
    EI_RESIZE_AREA = 1,     /* exact area coverage on each axis (OpenCV INTER_AREA) */
    EI_RESIZE_NEAREST = 2   /* the pixel under each centre (OpenCV INTER_NEAREST_EXACT) */
} ei_resize_mode;

typedef enum { EI_LAYOUT_NCHW = 0, EI_LAYOUT_NHWC = 1 } ei_layout;
typedef enum { EI_OUT_FLOAT32 = 0, EI_OUT_UINT8 = 1 } ei_out_type;

/* A uint8 image region, addressed by byte strides so that views of larger
 * frames (crops, flips) need no copy. Channels within a pixel are adjacent. */
typedef struct {
    const uint8_t *data;    /* first channel of the top-left pixel */
    int height, width;
    int channels;           /* channels sampled: 1 or 3 (an alpha channel is skipped) */
    ptrdiff_t row_stride;   /* bytes between vertically adjacent pixels */
    ptrdiff_t pixel_stride; /* bytes between horizontally adjacent pixels */
} ei_image_u8;

typedef struct {
    int out_height, out_width, out_channels; /* out_channels: 1 or 3 */
    /* The resized image fills this box of the output; the rest is padding
     * (a letterbox). Without letterboxing the box is the whole output. */
    int box_top, box_left, box_height, box_width;
    ei_resize_mode resize;
    ei_layout layout;
    ei_out_type out_type;
    /* out[c] = sum_k mix[c][k] * sampled[k] + bias[c]: colour order, grey
     * conversion and 1/std all in one matrix. */
    float mix[3][3];
    float bias[3];
    float pad[3]; /* value written outside the box, in output units */
} ei_preprocess_params;

/* Writes out_height x out_width x out_channels values (float or uint8) to
 * out in the requested layout. Returns 0, or -1 when parameters are invalid,
 * -2 when scratch memory could not be allocated. */
int ei_preprocess(const ei_image_u8 *src, const ei_preprocess_params *params, void *out);

#endif
