/* SPDX-License-Identifier: MIT */
/* port_result.c - what one replication of a port scenario returns (bx_ports_result): its
 * allocation, release, and packing into a byte string for distributed runs (par/). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx/port.h"
#include "bx/sim.h"

enum bx_status bx_ports_result_init(struct bx_ports_result *r, size_t n_ports, struct bx_error *err)
{
    memset(r, 0, sizeof *r);
    r->ports = calloc(n_ports ? n_ports : 1, sizeof *r->ports);
    if (r->ports == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    r->n_ports = n_ports;
    for (size_t i = 0; i < n_ports; ++i) {
        bx_tally_reset(&r->ports[i].wait);
        r->ports[i].wait_q = bx_quantiles_alloc(false, 0.005, err);
        r->ports[i].lane_wait_q = bx_quantiles_alloc(false, 0.005, err);
        r->ports[i].officer_wait_q = bx_quantiles_alloc(false, 0.005, err);
        if (r->ports[i].wait_q == NULL || r->ports[i].lane_wait_q == NULL ||
            r->ports[i].officer_wait_q == NULL)
            return BX_ENOMEM;
    }
    return BX_OK;
}

size_t bx_ports_hours(const struct bx_ports_config *cfg)
{
    return (size_t)ceil(cfg->horizon_s / 3600);
}

void bx_ports_result_fini(struct bx_ports_result *r)
{
    if (r == NULL || r->ports == NULL)
        return;
    free(r->samples);
    for (size_t i = 0; r->stream_names && i < r->n_streams; ++i)
        free(r->stream_names[i]);
    free(r->stream_names);
    free(r->stream_seeds);
    for (size_t i = 0; i < r->n_ports; ++i) {
        bx_quantiles_free(r->ports[i].wait_q);
        bx_quantiles_free(r->ports[i].lane_wait_q);
        bx_quantiles_free(r->ports[i].officer_wait_q);
        free(r->ports[i].hourly);
    }
    free(r->ports);
    memset(r, 0, sizeof *r);
}

void bx_ports_result_pack(const struct bx_ports_result *r, struct bx_buf *b)
{
    /* The structs as they are (pointers included: they are replaced when unpacked), then what
     * the pointers hold. */
    struct bx_ports_result h = *r;
    h.n_samples = r->samples ? r->n_samples : 0;
    h.n_streams = r->stream_names && r->stream_seeds ? r->n_streams : 0;
    bx_buf_put(b, &h, sizeof h);
    for (size_t i = 0; i < r->n_ports; ++i) {
        struct bx_port_result p0 = r->ports[i], *p = &p0;
        p0.n_hours = p0.hourly ? p0.n_hours : 0;
        bx_buf_put(b, p, sizeof *p);
        bx_quantiles_pack(p->wait_q, b);
        bx_quantiles_pack(p->lane_wait_q, b);
        bx_quantiles_pack(p->officer_wait_q, b);
        bx_buf_put(b, p->hourly, p->n_hours * sizeof *p->hourly);
    }
    bx_buf_put(b, r->samples, h.n_samples * sizeof *r->samples);
    for (size_t i = 0; i < h.n_streams; ++i)
        bx_buf_put_str(b, r->stream_names[i]);
    bx_buf_put(b, r->stream_seeds, h.n_streams * sizeof *r->stream_seeds);
}

enum bx_status bx_ports_result_unpack(struct bx_reader *rd, struct bx_ports_result *out,
                                      struct bx_error *err)
{
    bx_ports_result_fini(out);
    struct bx_ports_result h;
    bx_reader_get(rd, &h, sizeof h);
    if (rd->failed || h.n_ports == 0 || h.n_ports > 65536)
        return BX_FAIL(err, BX_EFORMAT, "truncated or malformed port results");
    /* The ports are read whole below (no sketches allocated only to be replaced). */
    struct bx_port_result *ports = calloc(h.n_ports, sizeof *ports);
    if (ports == NULL)
        return BX_FAIL(err, BX_ENOMEM, "out of memory");
    *out = h;
    out->ports = ports;
    out->samples = NULL;
    out->stream_names = NULL;
    out->stream_seeds = NULL;
    size_t n_streams = out->n_streams;
    out->n_streams = 0;
    for (size_t i = 0; i < h.n_ports && !rd->failed; ++i) {
        struct bx_port_result *p = &ports[i];
        bx_reader_get(rd, p, sizeof *p);
        p->wait_q = p->lane_wait_q = p->officer_wait_q = NULL;
        p->hourly = NULL;
        if (rd->failed)
            break;
        p->wait_q = bx_quantiles_unpack(rd, err);
        p->lane_wait_q = p->wait_q ? bx_quantiles_unpack(rd, err) : NULL;
        p->officer_wait_q = p->lane_wait_q ? bx_quantiles_unpack(rd, err) : NULL;
        if (p->officer_wait_q == NULL)
            rd->failed = true;
        else
            p->hourly = bx_reader_array(rd, p->n_hours, sizeof *p->hourly);
        if (p->hourly == NULL)
            p->n_hours = 0;
    }
    if (!rd->failed) {
        out->samples = bx_reader_array(rd, out->n_samples, sizeof *out->samples);
        out->cap_samples = out->samples ? out->n_samples : 0;
        if (out->samples == NULL)
            out->n_samples = 0;
    }
    if (!rd->failed && n_streams > (rd->len - rd->pos) / sizeof(uint64_t))
        rd->failed = true; /* each stream takes at least its name's length word */
    if (!rd->failed && n_streams > 0) {
        out->stream_names = calloc(n_streams, sizeof *out->stream_names);
        if (out->stream_names == NULL)
            rd->failed = true;
        for (size_t i = 0; i < n_streams && !rd->failed; ++i) {
            out->stream_names[i] = bx_reader_str(rd);
            out->n_streams = i + 1;
        }
        out->stream_seeds = bx_reader_array(rd, n_streams, sizeof *out->stream_seeds);
    }
    if (rd->failed) {
        bx_ports_result_fini(out);
        return BX_FAIL(err, BX_EFORMAT, "truncated or malformed port results");
    }
    return BX_OK;
}
