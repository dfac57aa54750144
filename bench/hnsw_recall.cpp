// hnswlib alone on the vectors of bench/models.sh's search part (bench/hnsw_recall.sh writes them):
// builds the graph with pxt's parameters (M 16, ef_construction 64, inner product on unit
// vectors, as a cosine index) once on one thread in row order, hnswlib's own way, and once from
// several threads at once, as pxt builds it (store/index/vector_index.cpp), and prints recall@10
// against the exact scan for each query set at several ef_search values. It separates what
// hnswlib does on these vectors from what pxt's graph does.
// Usage: pxt_bench_hnsw_recall VECTORS_FILE [THREADS]
// The file: int32 rows, queries, dimension; then rows, then queries, as float32 (the first half
// of the queries one set, the second half another).
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void normalize(float* v, size_t dim) {
  double s = 0;
  for (size_t j = 0; j < dim; ++j) s += double(v[j]) * v[j];
  s = std::sqrt(s);
  if (s > 0)
    for (size_t j = 0; j < dim; ++j) v[j] = float(v[j] / s);
}

float dot(const float* a, const float* b, size_t dim) {
  float d = 0;
  for (size_t j = 0; j < dim; ++j) d += a[j] * b[j];
  return d;
}

struct Exact {
  std::vector<size_t> top;  // the 10 best rows
  float tenth = 0;          // the 10th best score: rows scoring as much are as right
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s VECTORS_FILE [THREADS]\n", argv[0]);
    return 2;
  }
  FILE* f = std::fopen(argv[1], "rb");
  int32_t head[3];
  if (!f || std::fread(head, 4, 3, f) != 3) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  const size_t n = size_t(head[0]), nq = size_t(head[1]), dim = size_t(head[2]);
  std::vector<float> rows(n * dim), queries(nq * dim);
  if (std::fread(rows.data(), 4, rows.size(), f) != rows.size() ||
      std::fread(queries.data(), 4, queries.size(), f) != queries.size()) {
    std::fprintf(stderr, "%s is shorter than its header says\n", argv[1]);
    return 1;
  }
  std::fclose(f);
  for (size_t i = 0; i < n; ++i) normalize(&rows[i * dim], dim);
  for (size_t i = 0; i < nq; ++i) normalize(&queries[i * dim], dim);

  std::vector<Exact> exact(nq);
  for (size_t q = 0; q < nq; ++q) {
    std::vector<std::pair<float, size_t>> scored(n);
    for (size_t i = 0; i < n; ++i) scored[i] = {-dot(&queries[q * dim], &rows[i * dim], dim), i};
    std::partial_sort(scored.begin(), scored.begin() + 10, scored.end());
    for (size_t k = 0; k < 10; ++k) exact[q].top.push_back(scored[k].second);
    exact[q].tenth = -scored[9].first;
  }

  const int threads = argc > 2 ? std::atoi(argv[2]) : int(std::thread::hardware_concurrency());
  hnswlib::InnerProductSpace space(dim);
  for (int th : {1, threads}) {
    hnswlib::HierarchicalNSW<float> graph(&space, n, 16, 64);
    double t0 = now_s();
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) graph.addPoint(&rows[i * dim], i);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < th; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    std::printf("hnswlib, built on %d thread(s) in %.1f s\n", th, now_s() - t0);
    for (size_t ef : {10, 20, 40, 64, 100, 200, 400, 800}) {
      graph.setEf(ef);
      std::printf("  ef_search %3zu:", ef);
      for (size_t set = 0; set < 2; ++set) {
        size_t hits = 0, tied = 0;
        double t1 = now_s();
        for (size_t q = set * nq / 2; q < (set + 1) * nq / 2; ++q) {
          auto found = graph.searchKnn(&queries[q * dim], 10);
          for (; !found.empty(); found.pop()) {
            hits += std::count(exact[q].top.begin(), exact[q].top.end(), found.top().second);
            tied += 1.0f - found.top().first >= exact[q].tenth - 1e-6f;
          }
        }
        double per_ms = (now_s() - t1) * 1000 / double(nq / 2);
        std::printf("  set %zu recall %.3f (%.3f with ties) %.2f ms/query", set + 1,
                    double(hits) / double(5 * nq), double(tied) / double(5 * nq), per_ms);
      }
      std::printf("\n");
    }
    std::fflush(stdout);
    if (threads == 1) break;
  }
  return 0;
}
