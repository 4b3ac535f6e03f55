/* SPDX-License-Identifier: MIT */
/* port_flow.c - a traveller's way through a port once arrived (port_arrive.c), in the order a
 * traveller meets it; one replication's state is struct run (port_internal.h).
 *
 * A traveller's way, and where each step is:
 *   arrival          port_arrive.c: bx_port__open_departure (manifest ports: air, sea, private
 *                    aircraft) | bx_port__land_block -> land_arrival (land lanes)
 *   matched ahead    port_match.c: bx_port__match_batch when the manifest or block is drawn
 *   capture          bx_port__camera_grant (gate camera, e-gate, mobile unit) | lane_grant
 *                    (land lane, port_arrive.c); bx_port__capture draws the attempts
 *   decision         after_camera -> bx_port__judge: 1:n against the manifest/expected gallery,
 *                    on no match 1:1 against the document photo; watch-list hit; U.S. opt-out
 *   manual           bx_port__route -> manual_grant -> manual_done (officers)
 *   secondary        to_secondary_or_finish -> secondary_grant -> secondary_done
 *   leaves           finish (outcomes, samples, retention); purge (citizens' photos, 12 h)
 *
 * Identities: every traveller has a true subject (whose face the cameras see) and a document
 * subject (whose photo is on the manifest). They are the same person except for impostors, who
 * travel on a look-alike's document: the document subject is generated as a look-alike of the
 * traveller (bx_tplgen's look-alike centre), which is how impostors choose documents. Watch-listed
 * travellers are people enrolled in the watch-list gallery at the start of the run.
 */
#define _POSIX_C_SOURCE 200809L
#include "port_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "bx/matcher.h"

#define TEMPLATE_RECORD_BYTES 128    /* metadata kept with a non-citizen's template (assumption) */
#define CITIZEN_RULE_S (12 * 3600.0) /* the rule: U.S. citizens' photos are kept at most 12 h */

static void finish(struct run *r, uint32_t i, enum outcome how);
static void after_camera(struct bx_sim *sim, void *obj, int64_t arg);
static void manual_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s);
static void manual_done(struct bx_sim *sim, void *obj, int64_t arg);
static void to_secondary_or_finish(struct run *r, uint32_t i);
static void secondary_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s);
static void secondary_done(struct bx_sim *sim, void *obj, int64_t arg);
static void purge(struct bx_sim *sim, void *obj, int64_t arg);

/* An event cannot go on (out of memory, a search that failed): keep the reason (NULL: out of
 * memory) and stop the run. */
void bx_port__fail(struct run *r, const struct bx_error *e)
{
    if (!r->failed) {
        if (e && e->code)
            r->fail = *e;
        else
            BX_FAIL(&r->fail, BX_ENOMEM, "out of memory for travellers");
    }
    r->failed = true;
    bx_sim_stop(r->sim);
}

/* Whether a traveller who arrived at @p t_s counts in the sizing window. */
bool bx_port__in_window(const struct run *r, double t_s)
{
    const struct bx_ports_config *c = r->cfg;
    return (c->window_from_s == 0 && c->window_to_s == 0) ||
           (t_s >= c->window_from_s && t_s < c->window_to_s);
}
static void after_camera(struct bx_sim *sim, void *obj, int64_t arg);

/* ---------------------------------------------------------------- events */

/* Traveller @p idx of port @p pi: drawn from the port's population; the face is a new person,
 * a watch-listed person, or (land) someone in the expected gallery; an impostor carries a
 * look-alike's document (same demographics, a face near the traveller's). */
void bx_port__new_traveller(struct run *r, uint32_t pi, uint32_t idx, bool land)
{
    struct port_rt *p = &r->ports[pi];
    const struct bx_port_config *c = p->cfg;
    struct trav *t = &r->tr[idx];
    memset(t, 0, sizeof *t);
    bx_pop_draw(&c->pop, p->pop, (int64_t)idx, &t->t);
    t->port = pi;
    t->land = land;
    double enrol_age = fmax(0, t->t.age_years - t->t.photo_age_years);
    t->face = (struct bx_subject){r->next_subject++,         t->t.sex,  t->t.region,
                                  bx_age_band_of(enrol_age), enrol_age, -1};
    if (t->t.watchlisted && r->cfg->watchlist_size) {
        t->face = r->wl_subjects[gsl_rng_uniform_int(r->wl_rng, r->cfg->watchlist_size)];
    } else if (land && gsl_rng_uniform(p->pop) < c->land.expected_share) {
        /* A recent entrant or frequent crosser: enrolled in the expected gallery. */
        t->face = p->expected_subjects[gsl_rng_uniform_int(p->pop, c->land.expected_gallery)];
        t->in_gallery = true;
    }
    t->in_gallery = t->in_gallery || !land;
    t->doc = t->face;
    if (t->t.impostor) {
        t->doc.id = r->next_subject++;
        t->doc.lookalike_of = t->face.id;
    }
}

/* Capture one traveller (staff exclusion, time, FTA, retries, opt-out) and count it; @return
 * the seconds the camera or lane is held, TVS answer included. A traveller left without a
 * usable photo goes to an officer, or leaves unphotographed: always when staff waved them past,
 * and after failed attempts when the port says `unphotographed: board`. */
double bx_port__capture(struct run *r, struct port_rt *p, struct trav *t)
{
    struct bx_ports_result *o = r->out;
    struct bx_port_ops *ops = &o->ports[t->port].ops;
    struct bx_capture_outcome co;
    bx_capture_run(&p->cfg->capture, p->cfg->device, &t->t, 1.0, p->capture, &co);
    bool in_scope = t->t.citizenship != BX_CIT_US && !co.exempt;
    ops->exempt += co.exempt;
    if (co.opted_out) {
        o->ports[t->port].opt_outs++;
        o->opt_outs++;
    } else if (!co.excluded && !co.exempt) {
        o->fta.trials++;
        o->fta.errors += !co.acquired;
    }
    if (in_scope) {
        ops->in_scope++;
        ops->photographed += co.acquired;
        ops->excluded += co.excluded;
        ops->not_acquired += !co.acquired && !co.excluded;
    }
    t->has_photo = co.acquired;
    t->leaves =
        co.excluded || co.exempt || (!co.acquired && !co.opted_out && p->cfg->unphotographed_board);
    t->to_manual = !co.acquired && !t->leaves;
    ops->left_unphotographed += t->leaves;
    /* Without a shared service the port's own answer time is part of the camera's hold; with
     * one, the answer's time is simulated (port_tvs.c) and the camera waits for it. */
    bool own_answer = co.acquired && !r->cfg->tvs.on;
    t->answer_s = own_answer ? p->cfg->match_time_s : 0;
    return co.time_s + (own_answer ? p->cfg->match_time_s : 0);
}

/* No working camera or lane for traveller @p i: not photographed. At a manifest port the
 * traveller boards unphotographed (the departure is recorded from the manifest, as GAO found);
 * at a land port the traveller goes to an officer. */
void bx_port__no_camera(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    struct bx_port_result *pr = &r->out->ports[t->port];
    pr->equipment.outage_travellers++;
    if (t->t.citizenship != BX_CIT_US) {
        pr->ops.in_scope++;
        pr->ops.outage++;
    }
    t->has_photo = false;
    t->leaves = !t->land;
    t->to_manual = t->land;
    pr->ops.left_unphotographed += t->leaves;
    bx_port__route(r, i);
}

/* A passenger still waiting for a camera when the departure leaves boards unphotographed. */
void bx_port__camera_renege(struct bx_sim *sim, void *obj, int64_t arg, double waited_s)
{
    (void)sim;
    (void)waited_s;
    bx_port__no_camera(obj, (uint32_t)arg);
}

void bx_port__camera_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct run *r = obj;
    struct trav *t = &r->tr[arg];
    struct port_rt *p = &r->ports[t->port];
    if (bx_port__in_window(r, t->t_arrive))
        bx_quantiles_add(r->out->ports[t->port].lane_wait_q, wait_s);
    bx_sim_schedule(sim, bx_sim_now(sim) + bx_port__capture(r, p, t), 0, after_camera, r, arg);
}

static void after_camera(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    (void)sim;
    if (r->tr[arg].has_photo && r->cfg->tvs.on)
        bx_port__tvs_send(r, (uint32_t)arg); /* the camera waits for the answer */
    else
        bx_port__answered(r, (uint32_t)arg);
}

/* The answer reached the camera (at once without a photo or a shared service): the camera is
 * free, the decision is taken, or with no answer (an outage) the traveller goes to an officer. */
void bx_port__answered(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    if (t->land) {
        bx_port__lane_answered(r, i);
        return;
    }
    struct port_rt *p = &r->ports[t->port];
    bx_resource_release(p->gates[p->deps[t->dep].gate], r->sim);
    bx_port__decide(r, i);
    bx_port__route(r, i);
}

/* A photographed traveller's decision, or the fallback when the service gave no answer. */
void bx_port__decide(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    if (!t->has_photo)
        return;
    if (t->no_answer) {
        t->to_manual = true;
        if (t->t.citizenship != BX_CIT_US)
            r->out->ports[t->port].ops.no_answer++;
        return;
    }
    bx_port__judge(r, i);
}

/* The traveller's capture succeeded: the biometric decision (matched ahead) is taken and
 * recorded. */
void bx_port__judge(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    struct port_rt *p = &r->ports[t->port];
    struct bx_ports_result *o = r->out;
    size_t dim = bx_tplgen_dim(r->gen);
    bool accepted = t->id_ok || t->verify >= r->thr[3 * t->port + BX_THR_VERIFY].value;
    double verify = t->verify, top = t->top;
    bool impostor = t->doc.id != t->face.id;
    if (impostor) {
        o->fmr.trials++;
        o->fmr.errors += accepted;
    } else {
        o->fnmr.trials++;
        o->fnmr.errors += !accepted;
    }
    t->accepted = accepted;
    t->to_manual = !accepted;
    t->wl_hit = t->wl_match;
    if (t->t.citizenship != BX_CIT_US) {
        struct bx_port_ops *ops = &o->ports[t->port].ops;
        ops->answered++;
        ops->matched += accepted;
        ops->with_record += t->in_gallery;
        ops->matched_gallery += t->in_gallery && t->id_ok;
        bx_tally_add(&ops->answer_s, t->answer_s);
    }
    if (t->t.watchlisted) {
        o->fnir.trials++;
        o->fnir.errors += !t->wl_hit;
    } else {
        o->fpir.trials++;
        o->fpir.errors += t->wl_hit;
    }
    if (o->n_samples == o->cap_samples) {
        size_t grow = o->cap_samples ? 2 * o->cap_samples : 4096;
        struct bx_match_sample *ns = realloc(o->samples, grow * sizeof *ns);
        if (ns == NULL) {
            bx_port__fail(r, NULL);
            return;
        }
        o->samples = ns;
        o->cap_samples = grow;
    }
    o->samples[o->n_samples++] = (struct bx_match_sample){.verify_score = (float)verify,
                                                          .top_score = (float)top,
                                                          .impostor_score = t->imp,
                                                          .subject = t->face.id,
                                                          .impostor_subject = t->imp_subject,
                                                          .port = (uint16_t)t->port,
                                                          .mated = !impostor,
                                                          .accepted = accepted,
                                                          .watchlisted = t->t.watchlisted,
                                                          .watchlist_hit = t->wl_hit,
                                                          .citizenship = (uint8_t)t->t.citizenship,
                                                          .sex = (uint8_t)t->t.sex,
                                                          .region = (uint8_t)t->t.region,
                                                          .age_band = (uint8_t)t->t.band,
                                                          .device = (uint8_t)p->cfg->device};
    /* Retention: U.S. citizens' photos go after 12 h; non-citizens' records stay. */
    t->t_capture = bx_sim_now(r->sim);
    if (t->t.citizenship == BX_CIT_US) {
        o->citizen_photos++;
        /* Deleted when the purge deletes it, not when the rule says: a job every N minutes
         * deletes what is due at its next run. */
        const struct bx_ports_config *c = r->cfg;
        double due = t->t_capture + (c->purge_after_s > 0 ? c->purge_after_s : CITIZEN_RULE_S);
        if (c->purge_every_s > 0)
            due = ceil(due / c->purge_every_s) * c->purge_every_s;
        bx_sim_schedule(r->sim, due, 0, purge, r, i);
    } else {
        o->noncitizen_records++;
        o->noncitizen_bytes += dim * sizeof(float) + TEMPLATE_RECORD_BYTES;
    }
}

/* After capture and matching: an officer, secondary inspection, or done. */
void bx_port__route(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    if (t->to_manual) {
        r->out->ports[t->port].manual++;
        bx_resource_request(r->ports[t->port].officers, r->sim, 0, BX_INF, manual_grant, r, i);
        return;
    }
    to_secondary_or_finish(r, i);
}

static void manual_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct run *r = obj;
    struct port_rt *p = &r->ports[r->tr[arg].port];
    if (bx_port__in_window(r, r->tr[arg].t_arrive))
        bx_quantiles_add(r->out->ports[r->tr[arg].port].officer_wait_q, wait_s);
    bx_sim_schedule(sim, bx_sim_now(sim) + bx_dist_sample(&p->cfg->manual_service, p->service), 0,
                    manual_done, r, arg);
}

static void manual_done(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct trav *t = &r->tr[arg];
    struct port_rt *p = &r->ports[t->port];
    bx_resource_release(p->officers, sim);
    to_secondary_or_finish(r, (uint32_t)arg);
}

static void to_secondary_or_finish(struct run *r, uint32_t i)
{
    struct trav *t = &r->tr[i];
    if (t->wl_hit) {
        r->out->ports[t->port].secondary++;
        bx_resource_request(r->ports[t->port].secondary, r->sim, 0, BX_INF, secondary_grant, r, i);
        return;
    }
    finish(r, i, t->to_manual ? OUT_MANUAL : t->leaves ? OUT_UNPHOTOGRAPHED : OUT_BIOMETRIC);
}

static void secondary_grant(struct bx_sim *sim, void *obj, int64_t arg, double wait_s)
{
    struct run *r = obj;
    struct port_rt *p = &r->ports[r->tr[arg].port];
    (void)wait_s;
    bx_sim_schedule(sim, bx_sim_now(sim) + bx_dist_sample(&p->cfg->secondary_service, p->service),
                    0, secondary_done, r, arg);
}

static void secondary_done(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    bx_resource_release(r->ports[r->tr[arg].port].secondary, sim);
    finish(r, (uint32_t)arg, r->tr[arg].to_manual ? OUT_MANUAL : OUT_BIOMETRIC);
}

/* The departure is recorded against the confirmed identity: the document's holder, unless an
 * officer caught an impostor (then the traveller is identified). */
static void finish(struct run *r, uint32_t i, enum outcome how)
{
    struct trav *t = &r->tr[i];
    struct port_rt *p = &r->ports[t->port];
    struct bx_ports_result *o = r->out;
    struct bx_port_result *pr = &o->ports[t->port];
    bool impostor = t->doc.id != t->face.id;
    bool caught = false;
    if (impostor && how == OUT_MANUAL)
        caught = gsl_rng_uniform(p->manual) < p->cfg->officer_catch;
    if (impostor) {
        o->impostors++;
        o->impostors_caught += caught;
    }
    /* Who the exit is recorded against: the document's holder, unless an officer caught an
     * impostor. A land traveller who passed unphotographed leaves no exit record at all. */
    bool linked_to_self = (!impostor || caught) && !(how == OUT_UNPHOTOGRAPHED && t->land);
    if (t->t.overstay) {
        o->overstays++;
        o->overstays_detected += linked_to_self;
    }
    if (t->t.watchlisted) {
        o->wl_true += t->wl_hit;
        o->wl_missed += !t->wl_hit;
    } else {
        o->wl_false += t->wl_hit;
    }
    o->manual += how == OUT_MANUAL;
    double w = bx_sim_now(r->sim) - t->t_arrive;
    size_t h = (size_t)(t->t_arrive / 3600);
    if (pr->hourly && h < pr->n_hours) {
        pr->hourly[h].arrivals += 1;
        pr->hourly[h].wait_sum_s += w;
    }
    bx_tally_add(&pr->wait, w);
    bx_quantiles_add(pr->wait_q, w);
    pr->travellers++;
    t->outcomes++;
    r->finished++;
}

static void purge(struct bx_sim *sim, void *obj, int64_t arg)
{
    struct run *r = obj;
    struct trav *t = &r->tr[arg];
    double held = bx_sim_now(sim) - t->t_capture;
    r->out->citizen_purged++;
    r->out->citizen_held_over_12h += held > CITIZEN_RULE_S + 1e-6; /* a microsecond: rounding */
    r->out->citizen_max_retained_h = fmax(r->out->citizen_max_retained_h, held / 3600);
}
