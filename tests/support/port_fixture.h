/* SPDX-License-Identifier: MIT */
/* port_fixture.h - small port configurations for the suites that run ports (header-only). */
#ifndef BX_TEST_PORT_FIXTURE_H
#define BX_TEST_PORT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "bx/port.h"

/* A port named @p name with the defaults of its type (bx_port_config_default: the loader's
 * defaults), for the test to change. */
static inline void bx_test_port_common(struct bx_port_config *p, const char *name,
                                       enum bx_port_type type)
{
    *p = bx_port_config_default(type);
    strcpy(p->name, name);
}

/* A scenario of @p n ports (to be filled) with a small default profile and thresholds. */
static inline struct bx_ports_config bx_test_ports(size_t n, size_t dim, size_t watchlist,
                                                   size_t calibration)
{
    struct bx_ports_config cfg = {0};
    cfg.ports = calloc(n, sizeof *cfg.ports);
    cfg.n_ports = n;
    cfg.profile = bx_tplgen_params_default(dim);
    strcpy(cfg.profile_name, "default");
    cfg.horizon_s = 86400;
    cfg.one_to_n_fpir = 0.003;
    cfg.verify_fmr = 1e-4;
    cfg.watchlist_fpir = 0.001;
    cfg.watchlist_size = watchlist;
    cfg.calibration_subjects = calibration;
    return cfg;
}

/* Make @p device's units fail: exponential times to failure (mean @p mtbf_h hours) and to
 * repair (mean @p mttr_h hours). */
static inline void bx_test_failures(struct bx_ports_config *cfg, enum bx_device device,
                                    double mtbf_h, double mttr_h)
{
    struct bx_failure_config *f = &cfg->failures[device];
    struct bx_error err = {0};
    f->on = true;
    f->mtbf_s = mtbf_h * 3600;
    if (bx_dist_exponential(&f->repair, mttr_h * 3600, &err) != BX_OK)
        abort();
}

#endif /* BX_TEST_PORT_FIXTURE_H */
