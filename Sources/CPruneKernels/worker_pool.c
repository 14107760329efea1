// A small pool of helper threads for PruneRuntime's parallel loops. Helpers spin briefly after each job before
// they sleep, so the back-to-back parallel steps of one inference (microseconds apart) find them awake instead of
// waking a sleeping thread every time. Parts are claimed from a shared counter, and a helper that has not picked
// up its job by the time the caller ran out of parts is simply withdrawn, so the caller never waits for a thread
// the scheduler has not run (on a busy machine the job degrades to running on the calling thread).
#include "CPruneKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define PRK_PAUSE() _mm_pause()
#else
#define PRK_PAUSE() ((void)0)
#endif

enum { PRK_MAX_HELPERS = 63 };
enum { PRK_IDLE = 0, PRK_READY = 1, PRK_RUNNING = 2, PRK_DONE = 3 };

/// How long a helper spins for its next job before it sleeps on its condition variable.
/// The steps of one inference follow each other within microseconds; 50 µs covers those gaps without holding a
/// core long after the last step (on a loaded machine every spinning microsecond is taken from another thread).
static const int64_t prk_spin_nanoseconds = 50 * 1000;

/// One call's job, on the caller's stack: it outlives every helper that took it (the caller waits for them).
typedef struct {
    prk_task task;
    void *context;
    int64_t parts;
    _Atomic int64_t next;
} prk_job;

/// One helper's mailbox. The caller writes `job` only while the state is IDLE, then sets READY; the helper takes
/// it by moving READY to RUNNING and reports DONE, or the caller withdraws it by moving READY back to IDLE.
typedef struct {
    _Atomic int state;
    prk_job *job;
    int64_t worker;
    int sleeping;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_t thread;
} prk_helper;

static prk_helper prk_helpers[PRK_MAX_HELPERS];
static int prk_started = 0;
/// Held by the one caller using the pool; others (including calls from inside a part) run their parts inline.
static pthread_mutex_t prk_pool_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t prk_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void prk_claim_parts(prk_job *job, int64_t worker) {
    for (;;) {
        int64_t part = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (part >= job->parts) return;
        job->task(job->context, part, worker);
    }
}

static void *prk_helper_main(void *argument) {
    prk_helper *h = argument;
    for (;;) {
        int64_t deadline = prk_now() + prk_spin_nanoseconds;
        int spins = 0;
        while (atomic_load_explicit(&h->state, memory_order_acquire) != PRK_READY) {
            PRK_PAUSE();
            if (++spins % 256 == 0 && prk_now() > deadline) {
                pthread_mutex_lock(&h->mutex);
                h->sleeping = 1;
                while (atomic_load_explicit(&h->state, memory_order_acquire) != PRK_READY) {
                    pthread_cond_wait(&h->wake, &h->mutex);
                }
                h->sleeping = 0;
                pthread_mutex_unlock(&h->mutex);
            }
        }
        int expected = PRK_READY;
        if (!atomic_compare_exchange_strong_explicit(
                &h->state, &expected, PRK_RUNNING, memory_order_acq_rel, memory_order_acquire)) {
            continue;  // withdrawn
        }
        prk_claim_parts(h->job, h->worker);
        atomic_store_explicit(&h->state, PRK_DONE, memory_order_release);
    }
    return 0;
}

/// Starts helpers up to `count` (called with the pool lock held); returns how many are running.
static int prk_start_helpers(int count) {
    while (prk_started < count) {
        prk_helper *h = &prk_helpers[prk_started];
        atomic_store(&h->state, PRK_IDLE);
        h->worker = prk_started + 1;
        h->sleeping = 0;
        pthread_mutex_init(&h->mutex, 0);
        pthread_cond_init(&h->wake, 0);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&h->thread, &attributes, prk_helper_main, h);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        prk_started++;
    }
    return prk_started;
}

void prk_parallel_run(int64_t parts, int64_t threads, prk_task task, void *context) {
    if (parts <= 0) return;
    int64_t wanted = threads < parts ? threads : parts;
    if (wanted - 1 > PRK_MAX_HELPERS) wanted = PRK_MAX_HELPERS + 1;
    prk_job job = {task, context, parts, 0};
    if (wanted <= 1 || pthread_mutex_trylock(&prk_pool_lock) != 0) {
        prk_claim_parts(&job, 0);
        return;
    }
    int helpers = prk_start_helpers((int)wanted - 1);
    if (helpers > wanted - 1) helpers = (int)wanted - 1;
    for (int i = 0; i < helpers; i++) {
        prk_helper *h = &prk_helpers[i];
        h->job = &job;
        atomic_store_explicit(&h->state, PRK_READY, memory_order_seq_cst);
        pthread_mutex_lock(&h->mutex);
        if (h->sleeping) pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->mutex);
    }
    prk_claim_parts(&job, 0);
    for (int i = 0; i < helpers; i++) {
        prk_helper *h = &prk_helpers[i];
        int expected = PRK_READY;
        if (atomic_compare_exchange_strong_explicit(
                &h->state, &expected, PRK_IDLE, memory_order_acq_rel, memory_order_acquire)) {
            continue;  // never picked up: withdrawn
        }
        int spins = 0;
        while (atomic_load_explicit(&h->state, memory_order_acquire) != PRK_DONE) {
            PRK_PAUSE();
            if (++spins % 1024 == 0) sched_yield();
        }
        atomic_store_explicit(&h->state, PRK_IDLE, memory_order_relaxed);
    }
    pthread_mutex_unlock(&prk_pool_lock);
}
