#include "u8_transpose.h"

void ei_u8_transpose(long rows, long cols, const uint8_t *x, uint8_t *y)
{
    uint8_t blk[16][16];
    long i, j;
    int a, b;
    for (i = 0; i < rows; i += 16) {
        const int n = rows - i < 16 ? (int)(rows - i) : 16;
        for (j = 0; j < cols; j += 16) {
            const int m = cols - j < 16 ? (int)(cols - j) : 16;
            if (n < 16 || m < 16) {
                for (a = 0; a < n; a++)
                    for (b = 0; b < m; b++)
                        y[(j + b) * rows + i + a] = x[(i + a) * cols + j + b];
                continue;
            }
            for (a = 0; a < 16; a++)
                memcpy(blk[a], x + (i + a) * cols + j, 16);
            ei_u8_transpose16(blk);
            for (b = 0; b < 16; b++)
                memcpy(y + (j + b) * rows + i, blk[b], 16);
        }
    }
}
