/* Checks the thread pool (csrc/platform/thread_pool.c) in a build of its own:
 * every task of a step runs exactly once, the caller runs tasks too, a
 * step never uses more threads than it was given, each thread starts on its
 * own share of the tasks, the lowest status wins, a step of no tasks runs
 * nothing, a step of more tasks than a share can count runs them all, and
 * steps started from a task or from several threads at once each still run
 * all their tasks. Prints "ok" and
 * exits 0, or names the first failed check and exits 1. */
#define _POSIX_C_SOURCE 200112L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thread_pool.h"

#define MAX_TASKS 4096
#define MAX_SEEN 16

static int failed = 0;

static void check(int ok, const char *what, int a, int b)
{
    if (!ok && !failed) {
        printf("failed: %s (%d, %d)\n", what, a, b);
        failed = 1;
    }
}

typedef struct {
    int tasks;
    int threads;
    int runs[MAX_TASKS];
    int ran_by[MAX_TASKS]; /* the thread index that ran the task */
    int first_of[MAX_SEEN]; /* the first task thread i ran, -1 for none */
    pthread_t seen[MAX_SEEN];
    int seen_count;
    pthread_mutex_t seen_lock;
    pthread_t caller;
    int caller_ran;
    int wait_for_caller; /* every other thread waits until the caller ran a task */
} step;

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_task(void *ctx, int task, int thread)
{
    step *s = (step *)ctx;
    const int most = s->threads < s->tasks ? s->threads : s->tasks; /* the pool caps at tasks */
    check(thread >= 0 && thread < (most < 1 ? 1 : most), "a thread of the step", thread,
          s->threads);
    const pthread_t self = pthread_self();
    int i, known = 0;
    __atomic_add_fetch(&s->runs[task], 1, __ATOMIC_RELAXED);
    s->ran_by[task] = thread;
    if (thread < MAX_SEEN) {
        int none = -1;
        __atomic_compare_exchange_n(&s->first_of[thread], &none, task, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    }
    pthread_mutex_lock(&s->seen_lock);
    for (i = 0; i < s->seen_count; i++)
        known |= pthread_equal(s->seen[i], self);
    if (!known && s->seen_count < MAX_SEEN)
        s->seen[s->seen_count++] = self;
    pthread_mutex_unlock(&s->seen_lock);
    if (pthread_equal(self, s->caller)) {
        __atomic_store_n(&s->caller_ran, 1, __ATOMIC_RELEASE);
    } else if (s->wait_for_caller) {
        const double give_up = seconds() + 20.0;
        while (!__atomic_load_n(&s->caller_ran, __ATOMIC_ACQUIRE) && seconds() < give_up)
            ;
    }
    return task == 5 ? -3 : task == 9 ? -7 : 0;
}

/* Thread i of a step of n threads starts on the front of the i-th share,
 * tasks [tasks * i / n, tasks * (i + 1) / n), unless the others took all
 * of it first (a late worker). */
static void check_shares(const step *s)
{
    const int threads = s->threads < s->tasks ? s->threads : s->tasks;
    int i, task;
    for (i = 0; i < threads && i < MAX_SEEN; i++) {
        const int begin = (int)((long long)s->tasks * i / threads);
        const int end = (int)((long long)s->tasks * (i + 1) / threads);
        int taken_by_others = 1;
        if (s->first_of[i] < 0 || s->first_of[i] == begin)
            continue;
        for (task = begin; task < end; task++)
            taken_by_others &= s->ran_by[task] != i;
        check(taken_by_others, "a thread starts on the front of its own share", i,
              s->first_of[i]);
    }
}

static void run_step(int tasks, int threads, int wait_for_caller)
{
    step *s = (step *)calloc(1, sizeof(step));
    int i, status, once = 1;
    s->tasks = tasks;
    s->threads = threads;
    s->caller = pthread_self();
    s->wait_for_caller = wait_for_caller;
    for (i = 0; i < MAX_SEEN; i++)
        s->first_of[i] = -1;
    pthread_mutex_init(&s->seen_lock, NULL);
    status = ei_parallel_for(tasks, threads, count_task, s);
    for (i = 0; i < tasks; i++)
        once &= s->runs[i] == 1;
    check(once, "every task runs exactly once", tasks, threads);
    if (threads > 1 && tasks > 1)
        check_shares(s);
    check(status == (tasks > 9 ? -7 : tasks > 5 ? -3 : 0), "the lowest status", tasks, status);
    check(s->seen_count <= (threads < 1 ? 1 : threads), "no more threads than given",
          s->seen_count, threads);
    if (wait_for_caller || threads <= 1)
        check(s->caller_ran, "the caller runs tasks", tasks, threads);
    pthread_mutex_destroy(&s->seen_lock);
    free(s);
}

static int never_called(void *ctx, int task, int thread)
{
    (void)ctx;
    (void)thread;
    (void)task;
    check(0, "a step of no tasks runs none", task, 0);
    return -1;
}

static int nested_task(void *ctx, int task, int thread)
{
    (void)ctx;
    (void)thread;
    (void)task;
    run_step(12, 2, 0);
    return 0;
}

static long long counted, summed;

static int sum_task(void *ctx, int task, int thread)
{
    (void)ctx;
    (void)thread;
    __atomic_add_fetch(&counted, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&summed, task, __ATOMIC_RELAXED);
    return 0;
}

/* A share counts at most 2^24 - 1 units: a step of more tasks shares them
 * out several to a unit, and still runs every one once (the count and the
 * sum of the task numbers both match). */
static void run_large_step(void)
{
    const int tasks = (1 << 24) + 7;
    counted = summed = 0;
    check(ei_parallel_for(tasks, 2, sum_task, NULL) == 0, "a large step succeeds", tasks, 0);
    check(counted == tasks, "every task of a large step runs", (int)counted, tasks);
    check(summed == (long long)tasks * (tasks - 1) / 2, "each task of a large step once",
          (int)(summed % 1000003), 0);
}

static void *concurrent_caller(void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < 300 && !failed; i++)
        run_step(1 + i % 40, 2 + i % 3, 0);
    return NULL;
}

int main(void)
{
    static const int task_counts[] = {1, 2, 3, 7, 10, 64, 1000, MAX_TASKS};
    int threads, t, round;
    pthread_t callers[4];

    check(ei_parallel_for(0, 4, never_called, NULL) == 0, "a step of no tasks returns 0", 0, 0);
    check(ei_parallel_for(-1, 4, never_called, NULL) == 0, "nor does one of fewer", -1, 0);
    for (threads = 0; threads <= 4; threads++)
        for (t = 0; t < (int)(sizeof task_counts / sizeof task_counts[0]); t++)
            run_step(task_counts[t], threads, 0);
    check(ei_pool_workers() == 3, "workers for the largest step only", ei_pool_workers(), 3);
    for (threads = 2; threads <= 4; threads++)
        run_step(64, threads, 1);

    /* workers that sleep at once between steps, woken for each */
    ei_pool_set_spin_us(0);
    for (round = 0; round < 200; round++) {
        struct timespec pause = {0, 20000};
        run_step(1 + round % 20, 2 + round % 3, round % 7 == 0);
        nanosleep(&pause, NULL);
    }
    ei_pool_set_spin_us(-1);

    run_large_step();
    check(ei_parallel_for(6, 2, nested_task, NULL) == 0, "steps started from a task", 6, 0);
    for (t = 0; t < 4; t++)
        pthread_create(&callers[t], NULL, concurrent_caller, NULL);
    for (t = 0; t < 4; t++)
        pthread_join(callers[t], NULL);
    if (failed)
        return 1;
    printf("ok\n");
    return 0;
}
