/* Undefined behaviour on demand: INT_MAX - 1 plus argv[1] overflows a signed
 * int for any argument above 1. tests/test_ubsan_builds.py runs it to show
 * that each build's UBSan really stops a driver, so a sanitizer that is
 * silently off in some toolchain is noticed. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int add = argc > 1 ? atoi(argv[1]) : 0;
    int sum = INT_MAX - 1 + add;
    printf("%d\n", sum);
    return 0;
}
