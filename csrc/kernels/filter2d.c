#include "filter2d.h"

#include "thread_pool.h"
#include "threads.h"

/* Output rows per band: bands of one channel run on different threads. */
#define ROWS_PER_BAND 32

/* A filter step's arguments, as its tasks read them. */
typedef struct {
    const ei_image *image;
    const float *kernel;
    int kernel_h, kernel_w;
    ei_border border;
    ei_simd_level level;
} filter_step;

/* One band of rows of one channel. */
static int filter_task(void *ctx, int item, int thread)
{
    const filter_step *s = (const filter_step *)ctx;
    const ei_image *image = s->image;
    const int c = item % image->channels, band = item / image->channels;
    const int begin = band * ROWS_PER_BAND;
    const int end = begin + ROWS_PER_BAND < image->height ? begin + ROWS_PER_BAND : image->height;
    const size_t size = image->type == EI_PIXEL_U8 ? 1 : sizeof(float);
    ei_plane in, out;
    ei_plane_filter f;
    (void)thread;
    in.data = (char *)image->data + (size_t)c * size;
    in.type = image->type;
    in.height = image->height;
    in.width = image->width;
    in.row_stride = image->row_stride;
    in.col_stride = image->col_stride;
    out.data = (char *)image->out + (size_t)c * size;
    out.type = image->type;
    out.height = image->height;
    out.width = image->width;
    out.row_stride = image->out_row_stride;
    out.col_stride = image->out_col_stride;
    f.kernel = s->kernel;
    f.kernel_h = s->kernel_h;
    f.kernel_w = s->kernel_w;
    f.stride_h = f.stride_w = f.dilation_h = f.dilation_w = 1;
    f.pad_top = s->kernel_h / 2; /* OpenCV's default anchor */
    f.pad_left = s->kernel_w / 2;
    f.border = s->border;
    f.border_value = 0.0f;
    f.bias = 0.0f;
    f.clamp = 0;
    f.lo = f.hi = 0.0f;
    return ei_plane_filter_rows(&in, &f, &out, begin, end, s->level);
}

int ei_filter2d(const ei_image *image, const float *kernel, int kernel_h, int kernel_w,
                ei_border border)
{
    const int bands = (image->height + ROWS_PER_BAND - 1) / ROWS_PER_BAND;
    const int items = bands * image->channels;
    int threads = ei_get_num_threads();
    filter_step s;
    if (image->height < 1 || image->width < 1 || image->channels < 1 || kernel_h < 1 ||
        kernel_w < 1)
        return -1;
    if ((double)image->height * image->width * image->channels * kernel_h * kernel_w < 400000.0)
        threads = 1;
    s.image = image;
    s.kernel = kernel;
    s.kernel_h = kernel_h;
    s.kernel_w = kernel_w;
    s.border = border;
    s.level = ei_simd_active();
    return ei_parallel_for(items, threads, filter_task, &s);
}
