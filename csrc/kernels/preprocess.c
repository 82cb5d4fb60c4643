#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "simd4.h"
#include "thread_pool.h"
#include "threads.h"

/* For each output index along one axis: `taps` source indices and weights
 * (unused taps carry weight 0). Resizing is separable, so two of these
 * describe the whole resampling. */
typedef struct {
    int taps;
    int *index;
    float *weight;
} axis_taps;

static void free_taps(axis_taps *t)
{
    free(t->index);
    free(t->weight);
    t->index = NULL;
    t->weight = NULL;
}

static int alloc_taps(axis_taps *t, int out_len, int taps)
{
    t->taps = taps;
    t->index = (int *)calloc((size_t)out_len * taps, sizeof(int));
    t->weight = (float *)calloc((size_t)out_len * taps, sizeof(float));
    if (t->index == NULL || t->weight == NULL) {
        free_taps(t);
        return -1;
    }
    return 0;
}

static int build_bilinear(axis_taps *t, int in_len, int out_len)
{
    double scale = (double)in_len / out_len;
    int i;
    if (alloc_taps(t, out_len, 2) != 0)
        return -1;
    for (i = 0; i < out_len; i++) {
        double pos = (i + 0.5) * scale - 0.5;
        int left = (int)floor(pos);
        double frac = pos - left;
        if (left < 0) {
            left = 0;
            frac = 0.0;
        }
        if (left >= in_len - 1) {
            left = in_len - 1;
            frac = 0.0;
        }
        t->index[2 * i] = left;
        t->index[2 * i + 1] = left + 1 < in_len ? left + 1 : left;
        t->weight[2 * i] = (float)(1.0 - frac);
        t->weight[2 * i + 1] = (float)frac;
    }
    return 0;
}

/* The pixel under the output pixel's centre (half-pixel centres). Integer
 * arithmetic keeps centres that fall exactly on a boundary exact: they take
 * the pixel after it. */
static int build_nearest(axis_taps *t, int in_len, int out_len)
{
    int i;
    if (alloc_taps(t, out_len, 1) != 0)
        return -1;
    for (i = 0; i < out_len; i++) {
        long long src = (2LL * i + 1) * in_len / (2LL * out_len);
        t->index[i] = src < in_len ? (int)src : in_len - 1;
        t->weight[i] = 1.0f;
    }
    return 0;
}

/* Output pixel i covers [i*scale, (i+1)*scale) of the input; each input
 * pixel contributes the length it overlaps, over the length covered. */
static int build_area(axis_taps *t, int in_len, int out_len)
{
    double scale = (double)in_len / out_len;
    int taps = (int)ceil(scale) + 1;
    int i;
    if (alloc_taps(t, out_len, taps) != 0)
        return -1;
    for (i = 0; i < out_len; i++) {
        double lo = i * scale, hi = lo + scale;
        int first = (int)floor(lo), n = 0, j;
        for (j = first; j < in_len && j < hi && n < taps; j++) {
            double overlap = (j + 1 < hi ? j + 1 : hi) - (j > lo ? j : lo);
            if (overlap <= 1e-9 * scale)
                continue;
            t->index[i * taps + n] = j;
            t->weight[i * taps + n] = (float)(overlap / scale);
            n++;
        }
        for (; n < taps; n++) /* padding taps: a valid index, no weight */
            t->index[i * taps + n] = t->index[i * taps];
    }
    return 0;
}

static int build_taps(axis_taps *t, ei_resize_mode mode, int in_len, int out_len)
{
    switch (mode) {
    case EI_RESIZE_BILINEAR: return build_bilinear(t, in_len, out_len);
    case EI_RESIZE_NEAREST: return build_nearest(t, in_len, out_len);
    case EI_RESIZE_AREA: return build_area(t, in_len, out_len);
    }
    return -1;
}

/* Sampled rows hold one float per channel for grey frames and four per
 * pixel (r, g, b in source order, then an unused lane) for colour frames, so a
 * colour pixel is one 16-byte vector. */
static int lanes_for(int channels)
{
    return channels == 3 ? 4 : 1;
}

#define EI_INLINE static inline __attribute__((always_inline))

/* Horizontal resampling of output columns [begin, end) of one source row, one
 * channel at a time: reads only the bytes of the pixels it samples. */
EI_INLINE void resample_columns(const uint8_t *row, int channels, const axis_taps *tx,
                                const ptrdiff_t *offset, int begin, int end, float *dst)
{
    int x, j, k;
    const int T = tx->taps, L = lanes_for(channels);
    const float *w = tx->weight;
    for (x = begin; x < end; x++) {
        for (k = 0; k < channels; k++) {
            float acc = 0.0f;
            for (j = 0; j < T; j++)
                acc += w[x * T + j] * row[offset[x * T + j] + k];
            dst[L * x + k] = acc;
        }
    }
}

/* Horizontal resampling of output columns [first, n) of one source row.
 * Colour columns in [vec_begin, vec_end) (see vector_columns) load each
 * three-byte pixel as one four-byte vector. */
EI_INLINE void resample_row(const uint8_t *row, int channels, const axis_taps *tx,
                            const ptrdiff_t *offset, int first, int n, int vec_begin,
                            int vec_end, float *dst)
{
    int x;
    const int T = tx->taps;
    const float *w = tx->weight;
    if (vec_begin < first)
        vec_begin = first;
    if (vec_end > n)
        vec_end = n;
    if (channels != 3 || T > 2 || vec_begin >= vec_end) {
        resample_columns(row, channels, tx, offset, first, n, dst);
        return;
    }
    resample_columns(row, channels, tx, offset, first, vec_begin, dst);
    if (T == 2) {
        for (x = vec_begin; x < vec_end; x++)
            v4_store(dst + 4 * x, v4_madd(v4_set1(w[2 * x]), v4_from_u8(row + offset[2 * x]),
                                          v4_mul(v4_set1(w[2 * x + 1]),
                                                 v4_from_u8(row + offset[2 * x + 1]))));
    } else {
        for (x = vec_begin; x < vec_end; x++)
            v4_store(dst + 4 * x, v4_from_u8(row + offset[x]));
    }
    resample_columns(row, channels, tx, offset, vec_end, n, dst);
}

/* Both rows of a bilinear output row resampled and blended in one pass:
 * when shrinking, source rows are rarely shared between output rows, so
 * caching them buys nothing and one loop over the taps does the work of
 * three. Colour frames only, and only columns [begin, end) that may be read
 * as vectors (see vector_columns). */
EI_INLINE void blend_two_rows(const uint8_t *top, float wt, const uint8_t *bottom, float wb,
                              const axis_taps *tx, const ptrdiff_t *offset, int begin, int end,
                              float *dst)
{
    const float *w = tx->weight;
    const v4 vt = v4_set1(wt), vb = v4_set1(wb);
    int x;
    for (x = begin; x < end; x++) {
        const ptrdiff_t left = offset[2 * x], right = offset[2 * x + 1];
        const v4 wl = v4_set1(w[2 * x]), wr = v4_set1(w[2 * x + 1]);
        v4 upper = v4_madd(wl, v4_from_u8(top + left), v4_mul(wr, v4_from_u8(top + right)));
        v4 lower = v4_madd(wl, v4_from_u8(bottom + left), v4_mul(wr, v4_from_u8(bottom + right)));
        v4_store(dst + 4 * x, v4_madd(vt, upper, v4_mul(vb, lower)));
    }
}

/* The columns of a blended row outside the vector range: both source rows
 * resampled byte by byte, then blended. */
EI_INLINE void blend_columns(const uint8_t *top, float wt, const uint8_t *bottom, float wb,
                             const axis_taps *tx, const ptrdiff_t *offset, int begin, int end,
                             float *upper, float *lower, float *dst)
{
    size_t i;
    resample_columns(top, 3, tx, offset, begin, end, upper);
    resample_columns(bottom, 3, tx, offset, begin, end, lower);
    for (i = (size_t)4 * begin; i < (size_t)4 * end; i++)
        dst[i] = wt * upper[i] + wb * lower[i];
}

EI_INLINE uint8_t saturate_u8(float v)
{
    if (!(v > 0.0f)) /* also catches NaN */
        return 0;
    if (v >= 255.0f)
        return 255;
    return (uint8_t)(v + 0.5f);
}

/* Pointer to output channel c of pixel (row, col) and the step between pixels. */
static void *output_at(const ei_preprocess_params *p, void *out, int c, int row, int col,
                       size_t *step)
{
    const size_t size = p->out_type == EI_OUT_FLOAT32 ? sizeof(float) : 1;
    const size_t pixel = (size_t)row * p->out_width + col;
    size_t index;
    if (p->layout == EI_LAYOUT_NCHW) {
        *step = 1;
        index = (size_t)c * p->out_height * p->out_width + pixel;
    } else {
        *step = (size_t)p->out_channels;
        index = pixel * p->out_channels + c;
    }
    return (char *)out + index * size;
}

static void write_padding(const ei_preprocess_params *p, void *out, int row, int col, int n)
{
    int c, x;
    size_t step;
    for (c = 0; c < p->out_channels && n > 0; c++) {
        void *o = output_at(p, out, c, row, col, &step);
        for (x = 0; x < n; x++) {
            if (p->out_type == EI_OUT_FLOAT32)
                ((float *)o)[x * step] = p->pad[c];
            else
                ((uint8_t *)o)[x * step] = saturate_u8(p->pad[c]);
        }
    }
}

/* Blends two sampled rows (s = w0*h0 + w1*h1), mixes colours, normalises and
 * writes the box part of output row `row`. */
EI_INLINE void write_row(const ei_preprocess_params *p, int channels, const float *h0, float w0,
                         const float *h1, float w1, void *out, int row)
{
    const int n = p->box_width, L = lanes_for(channels), oc = p->out_channels;
    int c, x, done = 0;
    size_t step;
    if (channels == 3 && p->out_type == EI_OUT_FLOAT32 && p->layout == EI_LAYOUT_NCHW) {
        /* the hot loop: four pixels (r, g, b, -) at a time, transposed to one
         * vector per sampled channel, then mixed into every output plane */
        const v4 vw0 = v4_set1(w0), vw1 = v4_set1(w1);
        v4 vm[3][3], vb[3];
        float *o[3];
        for (c = 0; c < oc; c++) {
            vm[c][0] = v4_set1(p->mix[c][0]);
            vm[c][1] = v4_set1(p->mix[c][1]);
            vm[c][2] = v4_set1(p->mix[c][2]);
            vb[c] = v4_set1(p->bias[c]);
            o[c] = (float *)output_at(p, out, c, row, p->box_left, &step);
        }
        for (x = 0; x + 4 <= n; x += 4) {
            const float *a = h0 + 4 * x, *d = h1 + 4 * x;
            v4 p0 = v4_madd(vw0, v4_load(a), v4_mul(vw1, v4_load(d)));
            v4 p1 = v4_madd(vw0, v4_load(a + 4), v4_mul(vw1, v4_load(d + 4)));
            v4 p2 = v4_madd(vw0, v4_load(a + 8), v4_mul(vw1, v4_load(d + 8)));
            v4 p3 = v4_madd(vw0, v4_load(a + 12), v4_mul(vw1, v4_load(d + 12)));
            V4_TRANSPOSE(p0, p1, p2, p3);
            for (c = 0; c < oc; c++)
                v4_store(o[c] + x,
                         v4_madd(vm[c][0], p0, v4_madd(vm[c][1], p1, v4_madd(vm[c][2], p2, vb[c]))));
        }
        done = x;
    }
    for (c = 0; c < oc; c++) {
        const float m0 = p->mix[c][0], m1 = p->mix[c][1], m2 = p->mix[c][2], b = p->bias[c];
        void *o = output_at(p, out, c, row, p->box_left, &step);
        for (x = done; x < n; x++) {
            float v = m0 * (w0 * h0[L * x] + w1 * h1[L * x]) + b;
            if (channels == 3)
                v += m1 * (w0 * h0[L * x + 1] + w1 * h1[L * x + 1]) +
                     m2 * (w0 * h0[L * x + 2] + w1 * h1[L * x + 2]);
            if (p->out_type == EI_OUT_FLOAT32)
                ((float *)o)[x * step] = v;
            else
                ((uint8_t *)o)[x * step] = saturate_u8(v);
        }
    }
}

typedef struct {
    const ei_image_u8 *src;
    const ei_preprocess_params *p;
    const axis_taps *tx, *ty;
    const ptrdiff_t *xoffset;
    int vec_begin, vec_end; /* columns whose pixels may be read as vectors */
    int blend_rows; /* bilinear colour shrinking: see blend_two_rows */
    void *out;
} row_job;

/* Produces output rows [row_begin, row_end). Horizontally resampled source
 * rows are cached by row index, so enlarging computes each of them once. */
EI_INLINE int run_rows_impl(const row_job *job, int row_begin, int row_end)
{
    const ei_image_u8 *src = job->src;
    const ei_preprocess_params *p = job->p;
    const axis_taps *ty = job->ty;
    const int bw = p->box_width, ch = src->channels, T = ty->taps;
    const int slots = T + 1; /* a window of T consecutive rows never collides */
    const size_t row_floats = (size_t)lanes_for(ch) * bw;
    float *scratch = (float *)malloc(sizeof(float) * row_floats * (slots + 1));
    int *tag = (int *)malloc(sizeof(int) * slots);
    float *acc;
    int oy, j, s;
    size_t i;
    if (scratch == NULL || tag == NULL) {
        free(scratch);
        free(tag);
        return -2;
    }
    acc = scratch + row_floats * slots;
    for (s = 0; s < slots; s++)
        tag[s] = -1;

    for (oy = row_begin; oy < row_end; oy++) {
        const int by = oy - p->box_top;
        const float *h[2] = {NULL, NULL};
        float hw[2] = {0.0f, 0.0f};
        int used = 0, T_rows = T;
        if (by < 0 || by >= p->box_height) {
            write_padding(p, job->out, oy, 0, p->out_width);
            continue;
        }
        if (job->blend_rows) {
            const int r0 = ty->index[2 * by], r1 = ty->index[2 * by + 1];
            const uint8_t *top = src->data + (ptrdiff_t)r0 * src->row_stride;
            const uint8_t *bottom = src->data + (ptrdiff_t)r1 * src->row_stride;
            const float w0 = ty->weight[2 * by], w1 = ty->weight[2 * by + 1];
            float *upper = scratch, *lower = scratch + row_floats;
            blend_columns(top, w0, bottom, w1, job->tx, job->xoffset, 0, job->vec_begin, upper,
                          lower, acc);
            blend_two_rows(top, w0, bottom, w1, job->tx, job->xoffset, job->vec_begin,
                           job->vec_end, acc);
            blend_columns(top, w0, bottom, w1, job->tx, job->xoffset, job->vec_end, bw, upper,
                          lower, acc);
            h[0] = h[1] = acc;
            hw[0] = 1.0f;
            used = 1;
            T_rows = 0;
        }
        for (j = 0; j < T_rows; j++) {
            const float w = ty->weight[by * T + j];
            const int r = ty->index[by * T + j];
            float *row = scratch + row_floats * (size_t)(r % slots);
            if (w == 0.0f)
                continue;
            if (tag[r % slots] != r) {
                resample_row(src->data + (ptrdiff_t)r * src->row_stride, ch, job->tx,
                             job->xoffset, 0, bw, job->vec_begin, job->vec_end, row);
                tag[r % slots] = r;
            }
            if (used < 2) {
                h[used] = row;
                hw[used] = w;
            } else { /* area shrinking: more than two rows, summed here */
                if (used == 2) {
                    for (i = 0; i < row_floats; i++)
                        acc[i] = hw[0] * h[0][i] + hw[1] * h[1][i];
                    h[0] = acc;
                    hw[0] = 1.0f;
                    h[1] = NULL;
                    hw[1] = 0.0f;
                }
                for (i = 0; i < row_floats; i++)
                    acc[i] += w * row[i];
            }
            used++;
        }
        if (h[1] == NULL)
            h[1] = h[0];
        write_padding(p, job->out, oy, 0, p->box_left);
        write_row(p, ch, h[0], hw[0], h[1], hw[1], job->out, oy);
        write_padding(p, job->out, oy, p->box_left + bw, p->out_width - p->box_left - bw);
    }
    free(scratch);
    free(tag);
    return 0;
}

static int run_rows_portable(const row_job *job, int row_begin, int row_end)
{
    return run_rows_impl(job, row_begin, row_end);
}

#if EI_HAVE_X86_TARGETS
__attribute__((target("avx2,fma"))) static int run_rows_avx2(const row_job *job, int row_begin,
                                                              int row_end)
{
    return run_rows_impl(job, row_begin, row_end);
}
#endif

static int run_rows(const row_job *job, int row_begin, int row_end)
{
#if EI_HAVE_X86_TARGETS
    if (ei_simd_active() >= EI_SIMD_AVX2 && ei_simd_active() != EI_SIMD_NEON)
        return run_rows_avx2(job, row_begin, row_end);
#endif
    return run_rows_portable(job, row_begin, row_end);
}

/* True when every tap of output column x may be read as a four-byte vector:
 * the fourth byte of a three-byte pixel must still lie inside the row's
 * memory. The row's highest byte is its last pixel's only when the row runs
 * forwards; a flipped view ends at pixel 0, a broadcast one never advances. */
static int vector_readable(const axis_taps *tx, const ptrdiff_t *offset, int x,
                           ptrdiff_t row_end)
{
    int j;
    for (j = 0; j < tx->taps; j++)
        if (offset[x * tx->taps + j] + 4 > row_end)
            return 0;
    return 1;
}

/* The first run [*begin, *end) of output columns that vector_readable allows;
 * every other column is read byte by byte. Taps move monotonically along the
 * row, so for any stride the readable columns form one run; a column left
 * outside it would only be slower, never wrong. */
static void vector_columns(const ei_image_u8 *src, const axis_taps *tx, const ptrdiff_t *offset,
                           int box_width, int *begin, int *end)
{
    const ptrdiff_t last = (ptrdiff_t)(src->width - 1) * src->pixel_stride;
    const ptrdiff_t row_end = (last > 0 ? last : 0) + src->channels; /* one past the highest byte */
    int x = 0;
    while (x < box_width && !vector_readable(tx, offset, x, row_end))
        x++;
    *begin = x;
    while (x < box_width && vector_readable(tx, offset, x, row_end))
        x++;
    *end = x;
}

static int params_valid(const ei_image_u8 *src, const ei_preprocess_params *p)
{
    if (src->data == NULL || src->height < 1 || src->width < 1)
        return 0;
    if (src->channels != 1 && src->channels != 3)
        return 0;
    if (p->out_channels != 1 && p->out_channels != 3)
        return 0;
    if (p->out_height < 1 || p->out_width < 1 || p->box_height < 1 || p->box_width < 1)
        return 0;
    if (p->box_top < 0 || p->box_left < 0 || p->box_top + p->box_height > p->out_height ||
        p->box_left + p->box_width > p->out_width)
        return 0;
    return 1;
}

/* A preprocessing step split into `parts` runs of consecutive output rows
 * (consecutive rows share source rows in the row cache). */
typedef struct {
    const row_job *job;
    int height, parts;
} rows_step;

static int rows_task(void *ctx, int part, int thread)
{
    const rows_step *s = (const rows_step *)ctx;
    const int begin = (int)((long)s->height * part / s->parts);
    const int end = (int)((long)s->height * (part + 1) / s->parts);
    (void)thread;
    return run_rows(s->job, begin, end);
}

/* Output pixels per thread below which threads cost more than they save: a
 * 224x224 model input is ~0.15 ms of work on one core, less than the pool's
 * workers cost to wake when the cores are busy with capture and inference. */
#define PIXELS_WORTH_A_THREAD (512L * 512L)

int ei_preprocess(const ei_image_u8 *src, const ei_preprocess_params *p, void *out)
{
    axis_taps tx = {0, NULL, NULL}, ty = {0, NULL, NULL};
    ptrdiff_t *xoffset = NULL;
    row_job job;
    int status = 0, threads, i;

    if (!params_valid(src, p))
        return -1;
    if (build_taps(&tx, p->resize, src->width, p->box_width) != 0 ||
        build_taps(&ty, p->resize, src->height, p->box_height) != 0) {
        status = -2;
        goto done;
    }
    xoffset = (ptrdiff_t *)malloc(sizeof(ptrdiff_t) * (size_t)p->box_width * tx.taps);
    if (xoffset == NULL) {
        status = -2;
        goto done;
    }
    for (i = 0; i < p->box_width * tx.taps; i++)
        xoffset[i] = (ptrdiff_t)tx.index[i] * src->pixel_stride;

    job.src = src;
    job.p = p;
    job.tx = &tx;
    job.ty = &ty;
    job.xoffset = xoffset;
    vector_columns(src, &tx, xoffset, p->box_width, &job.vec_begin, &job.vec_end);
    job.out = out;
    /* below a 2x vertical shrink consecutive output rows share source rows,
     * which the row cache computes once */
    job.blend_rows = p->resize == EI_RESIZE_BILINEAR && src->channels == 3 &&
                     src->height >= 2 * p->box_height;

    threads = ei_get_num_threads();
    if (threads > (long)p->out_height * p->out_width / PIXELS_WORTH_A_THREAD)
        threads = (int)((long)p->out_height * p->out_width / PIXELS_WORTH_A_THREAD);
    if (threads > p->out_height)
        threads = p->out_height;
    if (threads <= 1) {
        status = run_rows(&job, 0, p->out_height);
    } else {
        rows_step s;
        s.job = &job;
        s.height = p->out_height;
        s.parts = threads;
        status = ei_parallel_for(threads, threads, rows_task, &s);
    }
done:
    free(xoffset);
    free_taps(&tx);
    free_taps(&ty);
    return status;
}
