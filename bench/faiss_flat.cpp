// SPDX-License-Identifier: MIT
// faiss_flat.cpp - the FAISS reference for `bxsim bench --suite matcher` (built only when
// Debian's libfaiss-dev is installed; benchmark only, never part of bxsim itself).
//
// usage: bx_faiss_flat N REPEAT PROBES...
// For each PROBES count and 1 and 2 OpenMP threads, prints "PROBES THREADS RATE" once per
// repetition: comparisons per second of IndexFlatIP::search (k = 10, d = 512) on N random unit
// vectors, timed over at least 0.3 s.
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

static double now()
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

static void fill_unit(std::vector<float> &v, size_t n, size_t d, std::mt19937_64 &rng)
{
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    v.resize(n * d);
    for (size_t i = 0; i < n; ++i) {
        double ss = 0;
        for (size_t c = 0; c < d; ++c) {
            v[i * d + c] = u(rng);
            ss += (double)v[i * d + c] * v[i * d + c];
        }
        float inv = (float)(1 / std::sqrt(ss));
        for (size_t c = 0; c < d; ++c)
            v[i * d + c] *= inv;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s N REPEAT PROBES...\n", argv[0]);
        return 2;
    }
    const size_t d = 512, k = 10;
    size_t n = std::strtoull(argv[1], nullptr, 10);
    int repeat = std::atoi(argv[2]);
    std::mt19937_64 rng(2027);
    std::vector<float> g, q;
    faiss::IndexFlatIP index(d);
    const size_t chunk = 65536;
    for (size_t r0 = 0; r0 < n; r0 += chunk) {
        size_t m = n - r0 < chunk ? n - r0 : chunk;
        fill_unit(g, m, d, rng);
        index.add((faiss::Index::idx_t)m, g.data());
    }
    for (int a = 3; a < argc; ++a) {
        size_t nq = std::strtoull(argv[a], nullptr, 10);
        fill_unit(q, nq, d, rng);
        std::vector<float> dist(nq * k);
        std::vector<faiss::Index::idx_t> lab(nq * k);
        for (int threads = 1; threads <= 2; ++threads) {
            omp_set_num_threads(threads);
            index.search((faiss::Index::idx_t)nq, q.data(), k, dist.data(), lab.data());
            for (int rep = 0; rep < repeat; ++rep) {
                size_t calls = 0;
                double t0 = now(), dt;
                do {
                    index.search((faiss::Index::idx_t)nq, q.data(), k, dist.data(), lab.data());
                    ++calls;
                    dt = now() - t0;
                } while (dt < 0.3);
                std::printf("%zu %d %.6e\n", nq, threads, (double)calls * (double)nq * (double)n / dt);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
