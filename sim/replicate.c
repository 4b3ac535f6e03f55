/* SPDX-License-Identifier: MIT */
/* replicate.c - run independent replications on a pool of threads.
 *
 * Each replication writes only its own slot and draws only from its own streams, so the results
 * are the same whatever the number of threads or the order in which replications finish.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bx/sim.h"

struct pool {
    bx_rep_fn *fn;
    void *ctx;
    uint32_t n_reps;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t next, done;
    enum bx_status *status;  /* n_reps */
    struct bx_error *errors; /* n_reps */
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        uint32_t rep = p->next < p->n_reps ? p->next++ : p->n_reps;
        pthread_mutex_unlock(&p->mu);
        if (rep == p->n_reps)
            return NULL;
        p->status[rep] = p->fn(p->ctx, rep, &p->errors[rep]);
        pthread_mutex_lock(&p->mu);
        p->done++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

enum bx_status bx_replicate(uint32_t n_reps, unsigned n_threads, bx_rep_fn *fn, void *ctx,
                            void (*progress)(void *ctx, uint32_t done, uint32_t total),
                            struct bx_error *err)
{
    if (n_threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = cores > 0 ? (unsigned)cores : 1;
    }
    if (n_threads > n_reps)
        n_threads = n_reps ? n_reps : 1;

    struct pool p = {.fn = fn, .ctx = ctx, .n_reps = n_reps};
    enum bx_status st = BX_OK;
    p.status = calloc(n_reps ? n_reps : 1, sizeof *p.status);
    p.errors = calloc(n_reps ? n_reps : 1, sizeof *p.errors);
    pthread_t *th = calloc(n_threads, sizeof *th);
    if (p.status == NULL || p.errors == NULL || th == NULL) {
        st = BX_FAIL(err, BX_ENOMEM, "cannot allocate replication pool");
        goto done;
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);

    unsigned started = 0;
    if (n_threads > 1) {
        for (; started < n_threads; ++started)
            if (pthread_create(&th[started], NULL, worker, &p) != 0)
                break;
    }
    if (started == 0) {
        /* Single-threaded: run in the caller, reporting progress as we go. */
        for (uint32_t rep = 0; rep < n_reps; ++rep) {
            p.status[rep] = fn(ctx, rep, &p.errors[rep]);
            if (progress)
                progress(ctx, rep + 1, n_reps);
        }
    } else {
        /* Report every count reached, the last included: a worker may finish (and signal)
         * while progress() runs unlocked, so wait only while nothing new is done. */
        uint32_t reported = 0;
        pthread_mutex_lock(&p.mu);
        while (reported < n_reps) {
            while (p.done == reported)
                pthread_cond_wait(&p.cv, &p.mu);
            reported = p.done;
            if (progress) {
                pthread_mutex_unlock(&p.mu);
                progress(ctx, reported, n_reps);
                pthread_mutex_lock(&p.mu);
            }
        }
        pthread_mutex_unlock(&p.mu);
        for (unsigned i = 0; i < started; ++i)
            pthread_join(th[i], NULL);
    }
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);

    for (uint32_t rep = 0; rep < n_reps; ++rep) {
        if (p.status[rep] != BX_OK) {
            st = p.status[rep];
            if (err && err->code == BX_OK) {
                *err = p.errors[rep];
                if (err->code == BX_OK)
                    BX_FAIL(err, st, "replication %u failed", rep);
            }
            break;
        }
    }
done:
    free(th);
    free(p.errors);
    free(p.status);
    return st;
}
