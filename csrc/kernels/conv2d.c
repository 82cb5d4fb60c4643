#include "conv2d.h"

#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "depthwise.h"
#include "depthwise_blocked.h"
#include "gemm.h"
#include "im2col.h"
#include "plane_filter.h"
#include "scratch.h"
#include "thread_pool.h"
#include "threads.h"

int ei_conv2d_output_size(const ei_conv2d_params *p, int *out_height, int *out_width)
{
    const int span_h = (p->kernel_h - 1) * p->dilation_h + 1;
    const int span_w = (p->kernel_w - 1) * p->dilation_w + 1;
    const int padded_h = p->in_height + p->pad_top + p->pad_bottom;
    const int padded_w = p->in_width + p->pad_left + p->pad_right;
    if (p->batch < 1 || p->in_channels < 1 || p->in_height < 1 || p->in_width < 1 ||
        p->out_channels < 1 || p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 ||
        p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1 || p->groups < 1 ||
        p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0)
        return -1;
    if (p->in_channels % p->groups != 0 || p->out_channels % p->groups != 0)
        return -1;
    if (padded_h < span_h || padded_w < span_w)
        return -1;
    *out_height = (padded_h - span_h) / p->stride_h + 1;
    *out_width = (padded_w - span_w) / p->stride_w + 1;
    return 0;
}

/* Padded planes up to this many floats are convolved in one flat run, larger
 * ones row by row through a ring, which stays in L1. Measured on one x86 core:
 * at stride 1 the two break even near 160x160 on an AMD EPYC (AVX2), near
 * 80x80 to 112x112 on a Xeon with AVX-512 and 48 KB of L1 (3x3 on 112x112:
 * rows 0.89x the flat run's time alone, 0.85-0.9x inside EfficientNet-Lite0
 * and MobileNetV2; 5x5 on 112x112 1.06x); with a stride the ring's per-row
 * column split costs more, and flat stays ahead at 224x224. */
#define FLAT_PLANE_LIMIT 12288
#define FLAT_PLANE_LIMIT_STRIDED 65536

static int depthwise_path = -1; /* -1: by size, 0: rows, 1: flat, 2: channel-blocked */
/* -1: by shape, 0: im2col, 1: indirect row by row, 2: indirect in bands of rows */
static int indirect_path = -1;
static int pointwise_path = -1; /* -1: packed weights when given, 0: never, 1: always */

static int force_path(int *choice, int path, int last)
{
    if (path < -1 || path > last)
        return -1;
    *choice = path;
    return 0;
}

int ei_conv2d_force_indirect(int path)
{
    return force_path(&indirect_path, path, 2);
}

int ei_conv2d_force_pointwise(int path)
{
    return force_path(&pointwise_path, path, 1);
}

int ei_conv2d_force_depthwise(int path)
{
    return force_path(&depthwise_path, path, 2);
}

/* Bias, residual and clamp of the output from first_row of the layer on;
 * the residual starts at y_offset, where that part of the output does. */
static ei_epilogue epilogue_from(const ei_conv2d_params *p, const float *bias, size_t first_row,
                                 const float *residual, size_t y_offset)
{
    ei_epilogue ep;
    ep.bias = bias != NULL ? bias + first_row : NULL;
    ep.residual = residual != NULL ? residual + y_offset : NULL;
    ep.clamp = p->clamp;
    ep.lo = p->lo;
    ep.hi = p->hi;
    return ep;
}

/* A depthwise step's arguments, as its tasks read them. */
typedef struct {
    const ei_conv2d_params *p;
    const void *plan;
    const float *x, *w, *bias;
    float *y;
    ei_row_kernel kernel;
    int blocks, parts, part_rows; /* channel blocks, row parts of each */
    int ho, wo;
    ei_simd_level level;
    unsigned char bound[EI_MAX_THREADS]; /* the thread has padded its scratch */
} depthwise_step;

/* Scratch for `bytes`, padded by `bind` the first time a thread of the step
 * takes it (its padding stays zero for every later plane). */
static void *bound_scratch(depthwise_step *s, size_t bytes, int thread,
                           void (*bind)(const void *plan, void *scratch))
{
    void *scratch = ei_scratch(EI_SCRATCH_DEPTHWISE, bytes);
    if (scratch != NULL && !s->bound[thread]) {
        bind(s->plan, scratch);
        s->bound[thread] = 1;
    }
    return scratch;
}

static void bind_flat(const void *plan, void *scratch)
{
    ei_depthwise_flat_bind((const ei_depthwise_flat *)plan, scratch);
}

static void bind_blocked(const void *plan, void *scratch)
{
    ei_depthwise_blocked_bind((const ei_depthwise_blocked *)plan, (float *)scratch);
}

static int depthwise_flat_task(void *ctx, int item, int thread)
{
    depthwise_step *s = (depthwise_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const ei_depthwise_flat *plan = (const ei_depthwise_flat *)s->plan;
    const int multiplier = p->out_channels / p->groups;
    const int taps = p->kernel_h * p->kernel_w;
    const size_t in_plane = (size_t)p->in_height * p->in_width;
    const size_t out_plane = (size_t)plan->out_height * plan->out_width;
    const int n = item / p->out_channels, m = item % p->out_channels;
    const int c = m / multiplier;
    void *scratch = bound_scratch(s, plan->scratch_bytes, thread, bind_flat);
    if (scratch == NULL)
        return -2;
    ei_depthwise_flat_plane(plan, s->x + ((size_t)n * p->in_channels + c) * in_plane,
                            s->w + (size_t)m * taps, s->bias != NULL ? s->bias[m] : 0.0f,
                            s->y + (size_t)item * out_plane, scratch, s->kernel);
    return 0;
}

/* One input channel per group, flat: each thread pads its planes into its
 * own scratch block, which lives as long as the thread. */
static int depthwise_flat(const ei_conv2d_params *p, const ei_depthwise_flat *plan,
                          const float *x, const float *w, const float *bias, float *y,
                          int threads)
{
    depthwise_step s = {0};
    s.p = p;
    s.plan = plan;
    s.x = x;
    s.w = w;
    s.bias = bias;
    s.y = y;
    s.kernel = ei_plane_row_kernel(ei_simd_active());
    return ei_parallel_for(p->batch * p->out_channels, threads, depthwise_flat_task, &s);
}

static int depthwise_blocked_task(void *ctx, int item, int thread)
{
    depthwise_step *s = (depthwise_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const ei_depthwise_blocked *plan = (const ei_depthwise_blocked *)s->plan;
    const size_t in_image = (size_t)p->in_channels * p->in_height * p->in_width;
    const size_t out_image = (size_t)p->out_channels * plan->out_height * plan->out_width;
    const int block = item / s->parts, oy0 = item % s->parts * s->part_rows;
    const int oy1 = oy0 + s->part_rows < plan->out_height ? oy0 + s->part_rows : plan->out_height;
    const int n = block / s->blocks, m0 = block % s->blocks * plan->lanes;
    float *scratch = (float *)bound_scratch(s, plan->scratch_bytes, thread, bind_blocked);
    if (scratch == NULL)
        return -2;
    plan->block(plan, s->x + (size_t)n * in_image, s->w, s->bias, m0, oy0, oy1,
                s->y + (size_t)n * out_image, scratch);
    return 0;
}

/* One input channel per group, channels-last: blocks of a vector's width of
 * output channels shared out between threads, each padded into the thread's
 * scratch; with few blocks, their rows shared out too. */
static int depthwise_blocked(const ei_conv2d_params *p, ei_depthwise_blocked *plan,
                             const float *x, const float *w, const float *bias, float *y)
{
    const int blocks = (p->out_channels + plan->lanes - 1) / plan->lanes;
    const int block_items = p->batch * blocks;
    const int threads = ei_threads_for(block_items, (double)plan->out_height * plan->out_width *
                                                p->kernel_h * p->kernel_w * plan->lanes);
    int parts = ei_even_parts(block_items, threads, plan->out_height), part_rows;
    depthwise_step s = {0};
    if (parts > 1)
        ei_depthwise_blocked_split_rows(plan, parts);
    /* a part is whole bands */
    part_rows = (plan->out_height + parts - 1) / parts;
    part_rows = (part_rows + plan->band_rows - 1) / plan->band_rows * plan->band_rows;
    parts = (plan->out_height + part_rows - 1) / part_rows;
    s.p = p;
    s.plan = plan;
    s.x = x;
    s.w = w;
    s.bias = bias;
    s.y = y;
    s.blocks = blocks;
    s.parts = parts;
    s.part_rows = part_rows;
    return ei_parallel_for(block_items * parts, threads, depthwise_blocked_task, &s);
}

/* Output maps up to this wide go channels-last when there are channels
 * enough to fill a vector. Measured per layer inside EfficientNet-Lite0 and
 * MobileNetV2 (tools/layer_profile.py, one AVX-512 core, each path forced):
 * 0.25-0.35x the flat run's time on 7x7 maps, 0.4-0.6x on 14x14, 0.45-0.65x
 * on 28x28, 0.6-0.8x on 56x56 (3x3 at stride 1, and 3x3/2 from 112x112).
 * Alone, with its input hot in the cache, a 56x56 layer favours the flat run
 * instead; inside a model, the input just written by the layer before, it
 * does not. */
#define BLOCKED_WIDTH_LIMIT 56

/* Maps up to this wide go channels-last as well when their block is filled
 * in bands (ei_depthwise_blocked_plan). On the 112x112 map of 32 channels a
 * whole block had been 1.25x slower than the flat run; AVX-512's 16 lanes
 * make that block large enough for bands, and then it took 0.87-0.88x the
 * row-by-row filter's time inside EfficientNet-Lite0 and MobileNetV2 at one
 * thread, 0.76x at two (paired runs, every path forced in turn; the whole
 * model 0.987-0.991x). With AVX2's 8 lanes the block (416 KB) stays whole,
 * and forcing it there measured 0.995-1.002x: not taken, nor with 4 lanes. */
#define BANDED_WIDTH_LIMIT 112

static int blocked_pays(const ei_conv2d_params *p, const ei_depthwise_blocked *plan)
{
    const int banded = plan->band_rows < plan->out_height;
    return p->out_channels >= plan->lanes &&
           (plan->out_width <= BLOCKED_WIDTH_LIMIT ||
            (banded && plan->out_width <= BANDED_WIDTH_LIMIT));
}

/* One output plane of a depthwise step, filtered row by row. */
static int depthwise_rows_task(void *ctx, int item, int thread)
{
    const depthwise_step *s = (const depthwise_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const int multiplier = p->out_channels / p->groups;
    const int taps = p->kernel_h * p->kernel_w;
    const int ho = s->ho, wo = s->wo;
    const int n = item / p->out_channels, m = item % p->out_channels;
    const int c = m / multiplier;
    ei_plane in, out;
    ei_plane_filter f;
    in.data = (void *)(s->x + ((size_t)n * p->in_channels + c) * p->in_height * p->in_width);
    in.type = EI_PIXEL_F32;
    in.height = p->in_height;
    in.width = p->in_width;
    in.row_stride = p->in_width;
    in.col_stride = 1;
    out.data = s->y + ((size_t)n * p->out_channels + m) * ho * wo;
    out.type = EI_PIXEL_F32;
    out.height = ho;
    out.width = wo;
    out.row_stride = wo;
    out.col_stride = 1;
    f.kernel = s->w + (size_t)m * taps;
    f.kernel_h = p->kernel_h;
    f.kernel_w = p->kernel_w;
    f.stride_h = p->stride_h;
    f.stride_w = p->stride_w;
    f.dilation_h = p->dilation_h;
    f.dilation_w = p->dilation_w;
    f.pad_top = p->pad_top;
    f.pad_left = p->pad_left;
    f.border = EI_BORDER_CONSTANT;
    f.border_value = 0.0f;
    f.bias = s->bias != NULL ? s->bias[m] : 0.0f;
    f.clamp = p->clamp;
    f.lo = p->lo;
    f.hi = p->hi;
    (void)thread;
    return ei_plane_filter_rows(&in, &f, &out, 0, ho, s->level);
}

/* One input channel per group: each output plane is a direct filter of one
 * input plane (with a channel multiplier, several outputs share an input). */
static int conv_depthwise(const ei_conv2d_params *p, int ho, int wo, const float *x,
                          const float *w, const float *bias, float *y)
{
    const int planes = p->batch * p->out_channels;
    const int taps = p->kernel_h * p->kernel_w;
    const ei_simd_level level = ei_simd_active();
    const int threads = ei_threads_for(planes, (double)ho * wo * taps);
    const size_t limit = p->stride_w > 1 ? FLAT_PLANE_LIMIT_STRIDED : FLAT_PLANE_LIMIT;
    ei_depthwise_flat plan;
    ei_depthwise_blocked blocked;
    depthwise_step s = {0};

    ei_depthwise_blocked_plan(p, ho, wo, level, &blocked);
    if (depthwise_path == 2 || (depthwise_path == -1 && blocked_pays(p, &blocked)))
        return depthwise_blocked(p, &blocked, x, w, bias, y);
    ei_depthwise_flat_plan(p, ho, wo, &plan);
    if (depthwise_path == 1 || (depthwise_path == -1 && plan.block <= limit))
        return depthwise_flat(p, &plan, x, w, bias, y, threads);
    s.p = p;
    s.x = x;
    s.w = w;
    s.bias = bias;
    s.y = y;
    s.ho = ho;
    s.wo = wo;
    s.level = level;
    return ei_parallel_for(planes, threads, depthwise_rows_task, &s);
}

/* Output columns per block: the packed block of B stays within ~256 KB. */
static int columns_per_block(int k, int n, int nr, int threads)
{
    int cols = 65536 / (k > 0 ? k : 1);
    int share = (n + threads - 1) / threads;
    if (cols > share)
        cols = share;
    cols = cols / nr * nr;
    return cols < nr ? nr : cols;
}

/* 1x1 at stride 1 without padding: B is the input as it is. */
static int is_pointwise(const ei_conv2d_params *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_top == 0 && p->pad_left == 0 && p->pad_bottom == 0 && p->pad_right == 0;
}

/* A GEMM step's arguments, as its tasks read them. */
typedef struct {
    const ei_conv2d_params *p;
    const ei_gemm_kernel *kernel;
    int ho, wo;
    const float *x, *w, *packed_w, *bias, *residual;
    float *y;
    int block, blocks_per_image, pointwise, rows_per_item, row_blocks;
    int column_items, channels_outer; /* items: channel blocks outer, else column blocks */
} gemm_step;

/* One item of conv_gemm: a block of output columns of one image and group,
 * for one block of its output channels. */
static int gemm_task(void *ctx, int item, int thread)
{
    const gemm_step *s = (const gemm_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const ei_gemm_kernel *kernel = s->kernel;
    const int ho = s->ho, wo = s->wo;
    const float *x = s->x, *w = s->w, *packed_w = s->packed_w, *bias = s->bias;
    const float *residual = s->residual;
    float *y = s->y;
    const int groups = p->groups;
    const int cg = p->in_channels / groups, mg = p->out_channels / groups;
    const int k = cg * p->kernel_h * p->kernel_w;
    const int n_out = ho * wo;
    const int block = s->block, blocks_per_image = s->blocks_per_image;
    const int pointwise = s->pointwise, rows_per_item = s->rows_per_item;
    const int row_blocks = s->row_blocks;
    float *packed_b = (float *)ei_scratch(
        EI_SCRATCH_GEMM_B, sizeof(float) * ei_gemm_packed_b_size(kernel, k, block));
    (void)thread;
    if (packed_b == NULL)
        return -2;
    {
        const int column_item =
            s->channels_outer ? item % s->column_items : item / row_blocks;
        const int r0 =
            (s->channels_outer ? item / s->column_items : item % row_blocks) * rows_per_item;
        const int mm = mg - r0 < rows_per_item ? mg - r0 : rows_per_item;
        const int n = column_item / (groups * blocks_per_image);
        const int gi = column_item / blocks_per_image % groups;
        const int p0 = column_item % blocks_per_image * block;
        const int count =
            column_item % blocks_per_image == blocks_per_image - 1 ? n_out - p0 : block;
        const int in_place = pointwise ? count / kernel->vl * kernel->vl : 0;
        const float *x_group =
            x + ((size_t)n * p->in_channels + (size_t)gi * cg) * p->in_height * p->in_width;
        const float *w_group = w + ((size_t)gi * mg + r0) * k;
        const size_t y_offset = ((size_t)n * p->out_channels + (size_t)gi * mg + r0) * n_out +
                                (size_t)p0;
        float *y_block = y + y_offset;
        const ei_epilogue ep = epilogue_from(p, bias, (size_t)gi * mg + r0, residual, y_offset);
        const ei_epilogue ep_rest =
            epilogue_from(p, bias, (size_t)gi * mg + r0, residual, y_offset + (size_t)in_place);
        ei_im2col_src src;
        if (packed_w != NULL) {
            /* every column in one pass, the last few through the tail */
            ei_gemm_packed_a_in_place(kernel, mm, count, k, packed_w, r0, x_group + p0,
                                      n_out, y_block, n_out, &ep);
            return 0;
        }
        if (in_place > 0)
            ei_gemm_in_place(kernel, mm, in_place, k, w_group, k, x_group + p0, n_out,
                             y_block, n_out, &ep);
        if (in_place == count)
            return 0;
        if (pointwise) {
            /* the last few columns, as dot products over their gathered inputs */
            const int tail = count - in_place;
            const float *column = x_group + p0 + in_place;
            int kk, j;
            for (j = 0; j < tail; j++)
                for (kk = 0; kk < k; kk++)
                    packed_b[(size_t)j * k + kk] = column[(size_t)kk * n_out + j];
            kernel->narrow(mm, tail, k, w_group, k, packed_b, y_block + in_place, n_out,
                           &ep_rest);
            return 0;
        }
        src.x = x_group;
        src.channels = cg;
        src.height = p->in_height;
        src.width = p->in_width;
        src.kernel_h = p->kernel_h;
        src.kernel_w = p->kernel_w;
        src.stride_h = p->stride_h;
        src.stride_w = p->stride_w;
        src.dilation_h = p->dilation_h;
        src.dilation_w = p->dilation_w;
        src.pad_top = p->pad_top;
        src.pad_left = p->pad_left;
        src.out_height = ho;
        src.out_width = wo;
        if (ei_im2col_packed(&src, p0 + in_place, count - in_place, kernel->nr, kernel->vl,
                             packed_b) != 0) {
            return -2;
        }
        ei_gemm_packed(kernel, mm, count - in_place, k, w_group, k, packed_b,
                       y_block + in_place, n_out, &ep_rest);
        return 0;
    }
}

/* Every other case: per image and group, im2col blocks of output positions
 * into packed B and multiply by the weights of the group, read in place. A
 * 1x1 convolution at stride 1 without padding needs no im2col: its B is the
 * input, read in place too (packing it would copy as many floats as there are
 * multiply-adds per output channel, a large share when there are few); the
 * last columns, fewer than a vector, are dot products of gathered inputs. */
static int conv_gemm(const ei_conv2d_params *p, const ei_gemm_kernel *kernel, int ho, int wo,
                     const float *x, const float *w, const float *packed_w, const float *bias,
                     const float *residual, float *y)
{
    const int groups = p->groups;
    const int cg = p->in_channels / groups, mg = p->out_channels / groups;
    const int k = cg * p->kernel_h * p->kernel_w;
    const int n_out = ho * wo;
    int threads = ei_get_num_threads();
    const int pointwise = is_pointwise(p);
    int block = columns_per_block(k, n_out, kernel->nr, threads);
    int blocks_per_image, column_items;
    /* A pointwise layer whose map is wide enough shares out as about four
     * column blocks per thread, each reading its columns of B once: split by
     * output channels as well (below), two tasks read the same columns, often
     * on both cores (a 1x1 96 > 24 at 56x56 ran 0.77-0.82x its one-thread
     * speed at two threads). */
    if (pointwise && threads > 1 && p->batch * groups * ((n_out + block - 1) / block) <
                                        4 * threads) {
        const int narrow = n_out / (4 * threads) / kernel->nr * kernel->nr;
        if (narrow >= 2 * kernel->nr && narrow < block)
            block = narrow;
    }
    /* with packed weights the columns past the last whole vector ride along
     * with the last block (a block of their own would sweep all the weights
     * again for them alone) */
    blocks_per_image =
        (n_out + block - 1) / block -
        (packed_w != NULL && n_out > block && n_out % block != 0 && n_out % block < kernel->vl);
    column_items = p->batch * groups * blocks_per_image;
    /* A pointwise layer on a small map has too few column blocks to share
     * evenly (a 7x7 map: 16 + 16 + 16 + 1 columns): its output channels are
     * split as well, into about four items per thread (its B is read in
     * place, so no split packs anything twice). */
    int rows_per_item = mg, row_blocks = 1, items;
    if (pointwise && threads > 1 && column_items < 4 * threads) {
        const int wanted = (4 * threads + column_items - 1) / column_items;
        rows_per_item = (mg + wanted - 1) / wanted;
        rows_per_item = (rows_per_item + kernel->mr - 1) / kernel->mr * kernel->mr;
        row_blocks = (mg + rows_per_item - 1) / rows_per_item;
    }
    items = column_items * row_blocks;
    threads = ei_threads_for(items, (double)block * rows_per_item * k);
    {
        gemm_step s;
        s.p = p;
        s.kernel = kernel;
        s.ho = ho;
        s.wo = wo;
        s.x = x;
        s.w = w;
        s.packed_w = packed_w;
        s.bias = bias;
        s.residual = residual;
        s.y = y;
        s.block = block;
        s.blocks_per_image = blocks_per_image;
        s.pointwise = pointwise;
        s.rows_per_item = rows_per_item;
        s.row_blocks = row_blocks;
        s.column_items = column_items;
        /* Each thread runs one contiguous share of the items (thread_pool.h).
         * A layer that widens the channels (the expansion before a depthwise
         * step) hands each thread whole output channels, which the depthwise
         * step, split by channels, then reads on the core that wrote them; a
         * layer that narrows them keeps each thread on its own columns, of
         * which it reads only its part of the wide input. (Both ways on
         * 14x14 maps, two threads, paired runs in one process: MobileNetV2
         * took 0.96-0.97x, EfficientNet-Lite0 0.98-0.99x the time with
         * channels outer for the expansions than with columns outer for
         * every layer.) */
        s.channels_outer = row_blocks > 1 && mg > k;
        return ei_parallel_for(items, threads, gemm_task, &s);
    }
}

/* Columns of each phase of an indirect convolution's padded input (see
 * conv_indirect): an output row's wo and the kernel's reach past them. */
static int phase_columns(const ei_conv2d_params *p, int wo)
{
    return wo + ((p->kernel_w - 1) * p->dilation_w) / p->stride_w;
}

/* Output columns of a band of `rows` output rows run as one GEMM over the
 * flat padded rows (see indirect_bands): each row's wo outputs, and between
 * two rows the wq - wo columns the row passes over. */
static int band_columns(const ei_conv2d_params *p, int rows, int wo)
{
    return (rows - 1) * phase_columns(p, wo) + wo;
}

/* Whether a dense convolution runs in bands of output rows rather than a
 * GEMM per row: when its rows are narrower than a full tile and the whole
 * map as one band takes at most 1/8 more vectors than the rows do (the
 * columns between rows are computed and dropped). Measured on AVX-512, one
 * thread, 3x3: 1.4-2x faster from 4x4 to 30x30 maps, where a row's GEMM
 * fills one or two vectors of its tile and reads the weights again; a tie at
 * 60x60; slower on a 112x112 stem (K = 27), whose GEMM is bound by its
 * stores and then pays for the copy out of the band. A strided 1x1 (an
 * Xception shortcut) stays with im2col, whose packing is the subsampling it
 * needs anyway: 3x faster than copying every phase of the input. */
static int bands_pay(const ei_conv2d_params *p, const ei_gemm_kernel *kernel, int ho, int wo)
{
    const int vl = kernel->vl;
    const long band = (band_columns(p, ho, wo) + vl - 1) / vl;
    const long rows = (long)ho * ((wo + vl - 1) / vl);
    return p->kernel_h * p->kernel_w > 1 && wo < kernel->nr && 8 * band <= 9 * rows;
}

/* v as the tiles' clamp leaves it (NaN passes through) */
static float clamped(const ei_conv2d_params *p, float v)
{
    if (!p->clamp)
        return v;
    v = v < p->lo ? p->lo : v;
    return v > p->hi ? p->hi : v;
}

/* A band's GEMM output of this many floats stays in L2. */
#define BAND_FLOATS 32768

/* A banded indirect step's arguments, as its tasks read them. */
typedef struct {
    const ei_conv2d_params *p;
    const ei_gemm_kernel *kernel;
    int ho, wo, wq, rows_per_item, row_blocks, band_rows, bands;
    const float *w, *bias, *residual;
    float *y;
    const float *const *table;
    size_t plane;
} bands_step;

/* One item of indirect_bands: one band of output rows of one image and
 * group, for one block of its output channels. */
static int band_task(void *ctx, int item, int thread)
{
    const bands_step *s = (const bands_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const ei_gemm_kernel *kernel = s->kernel;
    const int ho = s->ho, wo = s->wo;
    const int groups = p->groups;
    const int cg = p->in_channels / groups, mg = p->out_channels / groups;
    const int k = cg * p->kernel_h * p->kernel_w;
    const ptrdiff_t row_step = s->wq;
    const int rows_per_item = s->rows_per_item, row_blocks = s->row_blocks;
    const int band_rows = s->band_rows, bands = s->bands;
    const size_t plane = s->plane;
    const float *w = s->w, *bias = s->bias, *residual = s->residual;
    const float *const *table = s->table;
    float *y = s->y;
    float *c = (float *)ei_scratch(
        EI_SCRATCH_CONV_OUTPUT,
        sizeof(float) * (size_t)rows_per_item * band_columns(p, band_rows, wo));
    (void)thread;
    if (c == NULL)
        return -2;
    {
        const int band = item % bands, rest = item / bands;
        const int image = rest / row_blocks, r0 = rest % row_blocks * rows_per_item;
        const int b = image / groups, gi = image % groups;
        const int mm = mg - r0 < rows_per_item ? mg - r0 : rows_per_item;
        const int oy0 = band * band_rows;
        const int rows = ho - oy0 < band_rows ? ho - oy0 : band_rows;
        const int n = band_columns(p, rows, wo);
        const int first_row = gi * mg + r0;
        const ptrdiff_t group_base = (ptrdiff_t)((size_t)b * p->in_channels +
                                                 (size_t)gi * cg) * (ptrdiff_t)plane;
        const size_t out_offset = ((size_t)b * p->out_channels + first_row) * ho * wo;
        ei_epilogue ep = epilogue_from(p, bias, first_row, NULL, 0);
        int i, oy, ox;
        if (residual != NULL)
            ep.clamp = 0; /* after the residual, below */
        ei_gemm_indirect(kernel, mm, n, k, w + (size_t)first_row * k, k, table,
                         group_base + oy0 * row_step, c, n, &ep);
        for (i = 0; i < mm; i++)
            for (oy = 0; oy < rows; oy++) {
                const float *from = c + (size_t)i * n + oy * row_step;
                const size_t at = out_offset + ((size_t)i * ho + oy0 + oy) * wo;
                float *to = y + at;
                if (residual == NULL)
                    for (ox = 0; ox < wo; ox++)
                        to[ox] = from[ox];
                else
                    for (ox = 0; ox < wo; ox++)
                        to[ox] = clamped(p, from[ox] + residual[at + ox]);
            }
    }
    return 0;
}

/* Output rows in bands, each band one GEMM per image and group: output
 * (oy, ox) reads each tap's padded row phase oy * wq + ox floats from the
 * tap's start, so the columns j = (oy - oy0) * wq + ox of one run over the
 * flat padded rows hold the band's outputs, and the columns between
 * (ox >= wo) are computed and dropped. The run goes to per-thread scratch,
 * then row by row into y, with the residual added and the clamp applied
 * there when there is a residual (the GEMM's epilogue would read it in the
 * scratch's layout). */
static int indirect_bands(const ei_conv2d_params *p, const ei_gemm_kernel *kernel, int ho,
                          int wo, const float *w, const float *bias, const float *residual,
                          float *y, const float *const *table, size_t plane, int wq)
{
    const int groups = p->groups;
    const int cg = p->in_channels / groups, mg = p->out_channels / groups;
    const int k = cg * p->kernel_h * p->kernel_w;
    const ptrdiff_t row_step = wq;
    const int images = p->batch * groups;
    int threads = ei_get_num_threads();
    /* output channels shared out too when there are fewer images than threads */
    int row_blocks = images >= threads ? 1 : (threads + images - 1) / images;
    int rows_per_item, band_rows, bands, items;
    rows_per_item = (mg + row_blocks - 1) / row_blocks;
    rows_per_item = (rows_per_item + kernel->mr - 1) / kernel->mr * kernel->mr;
    if (rows_per_item > mg)
        rows_per_item = mg;
    row_blocks = (mg + rows_per_item - 1) / rows_per_item;
    band_rows = (int)(BAND_FLOATS / rows_per_item / row_step) + 1;
    if (band_rows > ho)
        band_rows = ho;
    bands = (ho + band_rows - 1) / band_rows;
    items = images * row_blocks * bands;
    threads = ei_threads_for(items, (double)rows_per_item * band_rows * wo * k);
    {
        bands_step s;
        s.p = p;
        s.kernel = kernel;
        s.ho = ho;
        s.wo = wo;
        s.wq = wq;
        s.rows_per_item = rows_per_item;
        s.row_blocks = row_blocks;
        s.band_rows = band_rows;
        s.bands = bands;
        s.w = w;
        s.bias = bias;
        s.residual = residual;
        s.y = y;
        s.table = table;
        s.plane = plane;
        return ei_parallel_for(items, threads, band_task, &s);
    }
}

/* An indirect step's arguments, as its tasks read them. */
typedef struct {
    const ei_conv2d_params *p;
    const ei_gemm_kernel *kernel;
    int ho, wo, hq, wq, rows_per_item, row_blocks;
    size_t phase, plane;
    const float *x, *w, *bias, *residual;
    float *y, *padded;
    const float *const *table;
} indirect_step;

/* One input plane of conv_indirect, padded and split by phase. */
static int pad_phases_task(void *ctx, int i, int thread)
{
    const indirect_step *s = (const indirect_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const int sh = p->stride_h, sw = p->stride_w, hq = s->hq, wq = s->wq;
    const size_t phase = s->phase, plane = s->plane;
    float *padded = s->padded;
    const float *src = s->x + (size_t)i * p->in_height * p->in_width;
    /* input columns that land in some phase's wq columns */
    const int cols_max = wq * sw - p->pad_left;
    const int cols = p->in_width < cols_max ? p->in_width : cols_max;
    int r, a, b, c;
    /* the border: rows outside the input whole, and in the others each
     * phase's columns outside it (ix = c * sw + b - pad_left inside the
     * input for c in [lo, end)), a column or two written as floats */
    for (b = 0; b < sw; b++) {
        const int first = p->pad_left > b ? (p->pad_left - b + sw - 1) / sw : 0;
        const int end_ix = (p->in_width + p->pad_left - b + sw - 1) / sw;
        const int end = end_ix < wq ? end_ix : wq;
        const int lo = first < end ? first : end;
        for (a = 0; a < sh; a++)
            for (r = 0; r < hq; r++) {
                const int iy = r * sh + a - p->pad_top;
                float *dst = padded + (size_t)i * plane + (size_t)(a * sw + b) * phase +
                             (size_t)r * wq;
                if (iy < 0 || iy >= p->in_height) {
                    memset(dst, 0, sizeof(float) * (size_t)wq);
                    continue;
                }
                for (c = 0; c < lo; c++)
                    dst[c] = 0.0f;
                for (c = end; c < wq; c++)
                    dst[c] = 0.0f;
            }
    }
    /* the inside: every phase of a row from one pass over it (a pass per
     * phase, gathering every sw-th float, and a memset call per row and
     * phase had taken a third of a 3x3/2 layer's time on a 48x48 map) */
    if (cols <= 0)
        return 0;
    for (a = 0; a < sh; a++)
        for (r = 0; r < hq; r++) {
            const int iy = r * sh + a - p->pad_top;
            /* phase b of this row lies b * phase floats on */
            float *row = padded + (size_t)i * plane + (size_t)a * sw * phase + (size_t)r * wq;
            if (iy < 0 || iy >= p->in_height)
                continue;
            if (sw == 1)
                memcpy(row + p->pad_left, src + (size_t)iy * p->in_width,
                       sizeof(float) * (size_t)cols);
            else
                ei_split_columns(src + (size_t)iy * p->in_width, cols, p->pad_left, sw, phase,
                                 row);
        }
    (void)thread;
    return 0;
}

/* Output rows rows_per_item at a time of conv_indirect, one GEMM per row. */
static int indirect_rows_task(void *ctx, int i, int thread)
{
    const indirect_step *s = (const indirect_step *)ctx;
    const ei_conv2d_params *p = s->p;
    const int ho = s->ho, wo = s->wo, wq = s->wq;
    const int groups = p->groups;
    const int cg = p->in_channels / groups, mg = p->out_channels / groups;
    const int k = cg * p->kernel_h * p->kernel_w;
    const int rows_per_item = s->rows_per_item, row_blocks = s->row_blocks;
    const size_t plane = s->plane;
    const int n = i / (groups * row_blocks), gi = i / row_blocks % groups;
    const int oy0 = i % row_blocks * rows_per_item;
    const int oy1 = oy0 + rows_per_item < ho ? oy0 + rows_per_item : ho;
    const ptrdiff_t group_base = (ptrdiff_t)((size_t)n * p->in_channels + (size_t)gi * cg) *
                                 (ptrdiff_t)plane;
    const size_t group_offset = ((size_t)n * p->out_channels + (size_t)gi * mg) * ho * wo;
    int oy;
    for (oy = oy0; oy < oy1; oy++) {
        const size_t row_offset = group_offset + (size_t)oy * wo;
        const ei_epilogue ep =
            epilogue_from(p, s->bias, (size_t)gi * mg, s->residual, row_offset);
        ei_gemm_indirect(s->kernel, mg, wo, k, s->w + (size_t)gi * mg * k, k, s->table,
                         group_base + (ptrdiff_t)oy * wq, s->y + row_offset,
                         (ptrdiff_t)ho * wo, &ep);
    }
    (void)thread;
    return 0;
}

/* Dense convolutions (3x3 and the like, any stride): no im2col. The input is
 * padded once and split by row and column phase (sub-plane (a, b) holds the
 * padded rows r * sh + a and columns c * sw + b, hq x wq of them), so that
 * B's row for (channel, ky, kx) at output row oy is a contiguous run:
 * sub-plane ((ky * dh) % sh, (kx * dw) % sw), row oy + (ky * dh) / sh, from
 * column (kx * dw) / sw on. The tiles read those rows through a table of K
 * row pointers, offset by oy * wq per output row: one GEMM per output row of
 * Wo columns, written straight into y, or one per band of rows. */
static int conv_indirect(const ei_conv2d_params *p, const ei_gemm_kernel *kernel, int ho, int wo,
                         const float *x, const float *w, const float *bias,
                         const float *residual, float *y)
{
    const int groups = p->groups;
    const int cg = p->in_channels / groups, mg = p->out_channels / groups;
    const int kh = p->kernel_h, kw = p->kernel_w, sh = p->stride_h, sw = p->stride_w;
    const int k = cg * kh * kw;
    const int hq = ho + ((kh - 1) * p->dilation_h) / sh; /* rows per phase */
    const int wq = phase_columns(p, wo);
    const size_t phase = (size_t)hq * wq, plane = (size_t)sh * sw * phase;
    const int planes = p->batch * p->in_channels;
    int threads = ei_get_num_threads();
    int rows_per_item, row_blocks, items, i;
    /* one block: the padded planes, then the row table */
    const size_t padded_floats = (plane * planes + EI_GEMM_SLACK + 15) / 16 * 16;
    float *padded = (float *)ei_scratch(EI_SCRATCH_CONV_INPUT,
                                        sizeof(float) * padded_floats + sizeof(float *) * k);
    const float **table;
    indirect_step indirect;
    if (padded == NULL)
        return -2;
    table = (const float **)(void *)(padded + padded_floats);
    indirect.p = p;
    indirect.kernel = kernel;
    indirect.ho = ho;
    indirect.wo = wo;
    indirect.hq = hq;
    indirect.wq = wq;
    indirect.phase = phase;
    indirect.plane = plane;
    indirect.x = x;
    indirect.w = w;
    indirect.bias = bias;
    indirect.residual = residual;
    indirect.y = y;
    /* the tiles read whole vectors past a row's last column */
    for (i = 0; i < EI_GEMM_SLACK; i++)
        padded[plane * planes + i] = 0.0f;
    indirect.padded = padded;
    (void)ei_parallel_for(planes, ei_threads_for(planes, (double)plane), pad_phases_task,
                          &indirect);

    {
        int c, ky, kx;
        const float **entry = table;
        for (c = 0; c < cg; c++)
            for (ky = 0; ky < kh; ky++)
                for (kx = 0; kx < kw; kx++) {
                    const int row = ky * p->dilation_h, col = kx * p->dilation_w;
                    *entry++ = padded + (size_t)c * plane +
                               (size_t)((row % sh) * sw + col % sw) * phase +
                               (size_t)(row / sh) * wq + (size_t)(col / sw);
                }
    }
    if (indirect_path == 2 || (indirect_path == -1 && bands_pay(p, kernel, ho, wo)))
        return indirect_bands(p, kernel, ho, wo, w, bias, residual, y, table, plane, wq);
    /* output rows shared out in blocks, about four per thread */
    row_blocks = (4 * threads + p->batch * groups - 1) / (p->batch * groups);
    if (row_blocks > ho)
        row_blocks = ho;
    rows_per_item = (ho + row_blocks - 1) / row_blocks;
    row_blocks = (ho + rows_per_item - 1) / rows_per_item;
    items = p->batch * groups * row_blocks;
    threads = ei_threads_for(items, (double)rows_per_item * wo * mg * k);
    indirect.rows_per_item = rows_per_item;
    indirect.row_blocks = row_blocks;
    indirect.table = table;
    return ei_parallel_for(items, threads, indirect_rows_task, &indirect);
}

int ei_conv2d(const ei_conv2d_params *p, const float *x, const float *w, const float *bias,
              float *y)
{
    return ei_conv2d_residual(p, x, w, bias, NULL, y);
}

size_t ei_conv2d_pointwise_packed_size(int out_channels, int in_channels)
{
    const ei_gemm_kernel kernel = ei_gemm_kernel_for(ei_simd_active());
    return ei_gemm_packed_a_size(&kernel, out_channels, in_channels);
}

int ei_conv2d_pointwise_pack(int out_channels, int in_channels, const float *w, float *packed)
{
    const ei_gemm_kernel kernel = ei_gemm_kernel_for(ei_simd_active());
    ei_gemm_pack_a(&kernel, out_channels, in_channels, w, in_channels, packed);
    return (int)kernel.level;
}

int ei_conv2d_residual(const ei_conv2d_params *p, const float *x, const float *w,
                       const float *bias, const float *residual, float *y)
{
    return ei_conv2d_residual_packed(p, x, w, NULL, 0, bias, residual, y);
}

int ei_conv2d_residual_packed(const ei_conv2d_params *p, const float *x, const float *w,
                              const float *packed_w, int packed_level, const float *bias,
                              const float *residual, float *y)
{
    ei_gemm_kernel kernel;
    int ho, wo;
    if (ei_conv2d_output_size(p, &ho, &wo) != 0)
        return -1;
    kernel = ei_gemm_kernel_for(ei_simd_active());
    /* One input channel and a multiplier of at least a tile's rows (a grey
     * image's stem, 1 > 8) is a dense conv with K = kh * kw: one padded copy
     * and a GEMM, 1.4-2x faster than padding the plane again for each
     * output plane and filtering it alone. */
    if (p->in_channels == p->groups && !(p->groups == 1 && p->out_channels >= kernel.mr))
        return residual != NULL ? -1 : conv_depthwise(p, ho, wo, x, w, bias, y);
    /* Output rows of at least one full panel go through the indirect GEMM,
     * and so do maps whose rows run in bands (im2col would copy K floats per
     * output, K = 1152 for 128 channels at 3x3); other narrow rows fill
     * panels better through im2col, whose panels run across row ends. */
    if (!is_pointwise(p) &&
        (indirect_path >= 1 ||
         (indirect_path == -1 && (wo >= kernel.nr || bands_pay(p, &kernel, ho, wo)))))
        return conv_indirect(p, &kernel, ho, wo, x, w, bias, residual, y);
    if (!is_pointwise(p) || p->groups != 1 || pointwise_path == 0 ||
        (int)kernel.level != packed_level)
        packed_w = NULL;
    if (is_pointwise(p) && p->groups == 1 && pointwise_path == 1 && packed_w == NULL) {
        packed_w = (const float *)ei_scratch(
            EI_SCRATCH_PACKED_A,
            sizeof(float) * ei_gemm_packed_a_size(&kernel, p->out_channels, p->in_channels));
        if (packed_w == NULL)
            return -2;
        ei_gemm_pack_a(&kernel, p->out_channels, p->in_channels, w, p->in_channels,
                       (float *)packed_w);
    }
    return conv_gemm(p, &kernel, ho, wo, x, w, packed_w, bias, residual, y);
}
