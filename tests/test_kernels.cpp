// The pullback kernels: every fast kernel against the dense reference on random jets and
// actions (exact field: identical; float field: 1e-12 relative), and the dense reference itself
// — trees and rings through G⁽¹⁾⁻¹ of a general, non-triangular jet — against a brute-force GiNaC
// expansion of S(g(δ)) − ln det ∂g/∂δ that shares no code with the engine.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "engine/contraction.hpp"
#include "engine/parallel.hpp"
#include "engine/pullback.hpp"
#include "thread_count.hpp"

using namespace flowaction;
using GiNaC::ex;
using GiNaC::numeric;
using testing_support::ThreadCount;

namespace {

numeric small_rational(std::mt19937& rng) {
  return numeric(std::uniform_int_distribution<int>(-9, 9)(rng), 8);
}

template <class T>
T to_field(const numeric& q) {
  return from_rational<T>(q);
}

// A random action of order K (every component a small rational).
template <class T>
Action<T> random_action(std::mt19937& rng, int d, int K) {
  Action<T> a(d, K);
  for (auto& g : a.vertices)
    for (T& v : g.data()) v = to_field<T>(small_rational(rng));
  return a;
}

// Random jets of every structure, with the same random numbers for both fields.
struct JetSeed {
  unsigned seed;
  int d, degree;
};

template <class T>
Jet<T> random_jet(int structure, const JetSeed& s) {
  std::mt19937 rng(s.seed);
  const int d = s.d;
  const auto ud = static_cast<std::size_t>(d);
  switch (structure) {
    case 0: {  // linear
      LinearJet<T> j{d, {}};
      for (std::size_t i = 0; i < ud * ud; ++i)
        j.G1.push_back(to_field<T>(small_rational(rng) + numeric(i % (ud + 1) == 0 ? 2 : 0)));
      return j;
    }
    case 1: {  // diagonal
      DiagonalJet<T> j{d, s.degree, {}};
      for (int i = 0; i < d; ++i) {
        std::vector<T> D{T(0),
                         to_field<T>(numeric(std::uniform_int_distribution<int>(4, 12)(rng), 8))};
        for (int m = 2; m <= s.degree; ++m) D.push_back(to_field<T>(small_rational(rng)));
        j.D.push_back(D);
      }
      return j;
    }
    case 2: {  // rank one: v on B = {units ≥ d/2}, w on A = the rest
      RankOneJet<T> j;
      j.dim = d;
      j.hidden = 3;
      j.degree = s.degree;
      for (int i = 0; i < d; ++i) (i >= d / 2 ? j.B : j.A).push_back(i);
      const auto H = static_cast<std::size_t>(j.hidden);
      j.v.assign(H * ud, T(0));
      j.w.assign(H * ud, T(0));
      for (std::size_t h = 0; h < H; ++h) {
        for (std::size_t i = 0; i < ud; ++i)
          (i >= ud / 2 ? j.v : j.w)[h * ud + i] = to_field<T>(small_rational(rng));
        j.phi.emplace_back();
        for (int m = 0; m <= s.degree; ++m) j.phi[h].push_back(to_field<T>(small_rational(rng)));
      }
      j.G1.assign(ud * ud, T(0));
      for (std::size_t i = 0; i < ud; ++i) j.G1[i * ud + i] = T(1);
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t i = 0; i < ud; ++i)
          for (std::size_t k = 0; k < ud; ++k)
            j.G1[i * ud + k] += j.phi[h][1] * j.v[h * ud + i] * j.w[h * ud + k];
      return j;
    }
    default: {  // dense
      DenseJet<T> j;
      j.dim = d;
      j.degree = s.degree;
      j.G.resize(static_cast<std::size_t>(s.degree) + 1);
      for (int m = 1; m <= s.degree; ++m)
        for (int i = 0; i < d; ++i) {
          SymTensor<T> g(d, m);
          for (std::size_t r = 0; r < g.size(); ++r) {
            numeric v = small_rational(rng);
            if (m == 1 && static_cast<int>(r) == i) v += 2;  // keep G1 invertible
            g[r] = to_field<T>(v);
          }
          j.G[m].push_back(g);
        }
      return j;
    }
  }
}

}  // namespace

TEST_CASE("fast kernels equal the dense reference kernel on random jets") {
  const char* names[] = {"linear", "diagonal", "rank-one", "dense"};
  for (int structure = 0; structure < 4; ++structure)
    for (unsigned seed = 1; seed <= 4; ++seed) {
      const JetSeed js{seed, 1 + static_cast<int>(seed % 4), 1 + static_cast<int>(seed % 3) + 1};
      const int K = 3 + static_cast<int>(seed % 3);
      CAPTURE(std::string(names[structure]));
      CAPTURE(seed);
      std::mt19937 rng(100 + seed);
      const Action<ex> gamma = random_action<ex>(rng, js.d, K);
      const Jet<ex> jet = random_jet<ex>(structure, js);
      const Action<ex> fast = pullback(gamma, jet), ref = pullback_reference(gamma, jet);
      for (int k = 1; k <= K; ++k)
        for (std::size_t r = 0; r < fast.vertices[k].size(); ++r) {
          CAPTURE(k);
          CHECK((fast.vertices[k][r] - ref.vertices[k][r]).is_zero());
        }
      // Γ⁽⁰⁾ holds logarithms (Σ ln|dᵢ| here, ln|Π dᵢ| there), which GiNaC does not combine.
      GiNaC::Digits = 50;
      CHECK_MESSAGE(
          GiNaC::abs(GiNaC::ex_to<numeric>((fast.vertices[0][0] - ref.vertices[0][0]).evalf())) <
              numeric(1, 10).power(40),
          fast.vertices[0][0], " vs ", ref.vertices[0][0]);
      // The float field: the same numbers in double precision.
      Action<double> gd(js.d, K);
      for (int k = 0; k <= K; ++k)
        for (std::size_t r = 0; r < gd.vertices[k].size(); ++r)
          gd.vertices[k][r] = GiNaC::ex_to<numeric>(gamma.vertices[k][r]).to_double();
      const Action<double> f = pullback(gd, random_jet<double>(structure, js));
      for (int k = 0; k <= K; ++k)
        for (std::size_t r = 0; r < f.vertices[k].size(); ++r) {
          const double want = GiNaC::ex_to<numeric>(ref.vertices[k][r].evalf()).to_double();
          CHECK(std::fabs(f.vertices[k][r] - want) <= 1e-12 * std::max(1.0, std::fabs(want)));
        }
    }
}

TEST_CASE("the linear kernel on diagonal and zero vertices (its fast paths) equals the reference") {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const JetSeed js{seed, 1 + static_cast<int>(seed % 5), 1};
    const int K = 2 + static_cast<int>(seed % 4);
    CAPTURE(seed);
    std::mt19937 rng(200 + seed);
    // Γ⁽¹⁾ and Γ⁽²⁾ arbitrary; above: diagonal (as after an element-wise layer), one order zero.
    Action<ex> gamma = random_action<ex>(rng, js.d, K);
    for (int k = 3; k <= K; ++k) {
      SymTensor<ex>& g = gamma.vertices[k];
      multi_index index = g.shape().first();
      std::size_t r = 0;
      do {
        const bool diagonal =
            std::all_of(index.begin(), index.end(), [&](int u) { return u == index[0]; });
        if (!diagonal || k == 4) g[r] = 0;
        ++r;
      } while (g.shape().next(index));
    }
    if (K >= 2 && seed % 2 == 0) {  // a diagonal Γ⁽²⁾ too
      SymTensor<ex>& g = gamma.vertices[2];
      for (int i = 0; i < js.d; ++i)
        for (int j = i + 1; j < js.d; ++j) g.at(multi_index{i, j}) = 0;
    }
    const Jet<ex> jet = random_jet<ex>(0, js);
    const Action<ex> ref = pullback_reference(gamma, jet);
    Action<double> gd(js.d, K);
    for (int k = 0; k <= K; ++k)
      for (std::size_t r = 0; r < gd.vertices[k].size(); ++r)
        gd.vertices[k][r] = GiNaC::ex_to<numeric>(gamma.vertices[k][r]).to_double();
    const Action<double> f = pullback(gd, random_jet<double>(0, js));
    for (int k = 1; k <= K; ++k)
      for (std::size_t r = 0; r < f.vertices[k].size(); ++r) {
        CAPTURE(k);
        const double want = GiNaC::ex_to<numeric>(ref.vertices[k][r].evalf()).to_double();
        CHECK(std::fabs(f.vertices[k][r] - want) <= 1e-12 * std::max(1.0, std::fabs(want)));
      }
  }
}

TEST_CASE("the element-wise kernel on diagonal vertices (its fast path) equals the reference") {
  // Seeds 1-3: every vertex diagonal (as the latent Gaussian); 4-6: the highest order is not, so
  // only the orders below it take the fast path.
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const JetSeed js{seed, 2 + static_cast<int>(seed % 3), 2 + static_cast<int>(seed % 3)};
    const int K = 3 + static_cast<int>(seed % 2);
    CAPTURE(seed);
    std::mt19937 rng(300 + seed);
    Action<ex> gamma = random_action<ex>(rng, js.d, K);
    for (int k = 2; k <= (seed <= 3 ? K : K - 1); ++k) {
      SymTensor<ex>& g = gamma.vertices[k];
      multi_index index = g.shape().first();
      std::size_t r = 0;
      do {
        if (std::any_of(index.begin(), index.end(), [&](int u) { return u != index[0]; })) g[r] = 0;
        ++r;
      } while (g.shape().next(index));
    }
    const Jet<ex> jet = random_jet<ex>(1, js);
    const Action<ex> fast = pullback(gamma, jet), ref = pullback_reference(gamma, jet);
    Action<double> gd(js.d, K);
    for (int k = 0; k <= K; ++k)
      for (std::size_t r = 0; r < gd.vertices[k].size(); ++r)
        gd.vertices[k][r] = GiNaC::ex_to<numeric>(gamma.vertices[k][r]).to_double();
    const Action<double> f = pullback(gd, random_jet<double>(1, js));
    std::size_t nonzero_off_diagonal = 0;
    for (int k = 1; k <= K; ++k) {
      multi_index index = fast.vertices[k].shape().first();
      std::size_t r = 0;
      do {
        CAPTURE(k);
        CHECK((fast.vertices[k][r] - ref.vertices[k][r]).is_zero());
        const double want = GiNaC::ex_to<numeric>(ref.vertices[k][r].evalf()).to_double();
        CHECK(std::fabs(f.vertices[k][r] - want) <= 1e-12 * std::max(1.0, std::fabs(want)));
        nonzero_off_diagonal +=
            !ref.vertices[k][r].is_zero() &&
            std::any_of(index.begin(), index.end(), [&](int u) { return u != index[0]; });
        ++r;
      } while (fast.vertices[k].shape().next(index));
    }
    // The reference itself is diagonal exactly when every input vertex is.
    CHECK((nonzero_off_diagonal == 0) == (seed <= 3));
  }
}

TEST_CASE("a coupling's rings add up to zero: the reference computes them through G1^-1") {
  const JetSeed js{7, 4, 3};
  const Jet<ex> jet = random_jet<ex>(2, js);
  const DenseJet<ex> dense = to_dense(jet);
  // Tr Π (G1⁻¹ G⁽ᵐ⁺¹⁾) for the ring of two one-leg vertices, by the reference with Γ = 0.
  Action<ex> zero(4, 4);
  const Action<ex> rings_only = pullback_reference(zero, Jet<ex>(dense));
  for (int k = 0; k <= 4; ++k)
    for (const ex& v : rings_only.vertices[k].data()) CHECK(v.is_zero());
}

TEST_CASE("the dense reference equals a brute-force series of S(g(delta)) - ln det dg/ddelta") {
  // d = 2, G⁽ᵐ⁾ for m ≤ 3 dense and non-triangular, Γ random, K = 4: the pullback is the Taylor
  // expansion at 0 of Σ_k Γ⁽ᵏ⁾[g(δ)^k]/k! − ln|det ∂g/∂δ| with g(δ) = Σ_m G⁽ᵐ⁾[δ^m]/m!.
  for (unsigned seed = 11; seed <= 13; ++seed) {
    const int d = 2, K = 4;
    const JetSeed js{seed, d, 3};
    std::mt19937 rng(seed + 50);
    const Action<ex> gamma = random_action<ex>(rng, d, K);
    const Jet<ex> jet = random_jet<ex>(3, js);
    const DenseJet<ex>& G = std::get<DenseJet<ex>>(jet);
    const GiNaC::symbol t("t"), x0("x0"), x1("x1");
    const std::vector<ex> delta{x0, x1};
    // g_i(δ) with every index tuple written out.
    auto contract = [&](const SymTensor<ex>& T, const std::vector<ex>& v) {
      const int m = T.order();
      ex s = 0;
      std::vector<int> idx(static_cast<std::size_t>(m), 0);
      for (int f = 0; f < (1 << m); ++f) {
        std::vector<int> sorted;
        ex prod = 1;
        for (int p = 0; p < m; ++p) {
          const int i = (f >> p) & 1;
          sorted.push_back(i);
          prod *= v[static_cast<std::size_t>(i)];
        }
        std::sort(sorted.begin(), sorted.end());
        s += T.at(sorted) * prod;
      }
      return s;
    };
    std::vector<ex> g(2, 0);
    for (int i = 0; i < d; ++i)
      for (int m = 1; m <= 3; ++m) g[i] += contract(G.G[m][i], delta) / GiNaC::factorial(m);
    ex S = 0;
    for (int k = 0; k <= K; ++k) S += contract(gamma.vertices[k], g) / GiNaC::factorial(k);
    GiNaC::matrix J(2, 2);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) J(i, j) = g[i].diff(GiNaC::ex_to<GiNaC::symbol>(delta[j]));
    const ex det = J.determinant();
    const ex det0 = det.subs(GiNaC::lst{x0 == 0, x1 == 0});
    // −ln|det| − (−ln|det₀|): the series of −ln(det/det₀) along δ = t·(x0, x1).
    const ex ratio = (det / det0).subs(GiNaC::lst{x0 == t * x0, x1 == t * x1});
    const ex logs = GiNaC::series_to_poly(GiNaC::log(ratio).series(t == 0, K + 1)).subs(t == 1);
    const ex Sp = (S - logs).expand();
    const Action<ex> ref = pullback_reference(gamma, jet);
    const Action<ex> fast = pullback(gamma, jet);
    for (int k = 1; k <= K; ++k) {
      multi_index J2 = ref.vertices[k].shape().first();
      std::size_t r = 0;
      do {
        ex dS = Sp;
        for (int i : J2)
          dS = dS.diff(GiNaC::ex_to<GiNaC::symbol>(delta[static_cast<std::size_t>(i)]));
        const ex want = dS.subs(GiNaC::lst{x0 == 0, x1 == 0});
        CAPTURE(k);
        CAPTURE(J2);
        CHECK((ref.vertices[k][r] - want).expand().is_zero());
        CHECK((fast.vertices[k][r] - want).expand().is_zero());
        ++r;
      } while (ref.vertices[k].shape().next(J2));
    }
  }
}

TEST_CASE("float transform_legs: any first-leg block and thread count against exact rationals") {
  // The default block is all of d below d ≈ 170 at order 4; smaller blocks are the path of large
  // models. Each block gives the same bits on any number of threads (at d = 12, k = 4 the
  // gathered rows come in two chunks, which go to threads too).
  std::mt19937 rng(11);
  for (const auto& dk : {std::pair{12, 4}, {7, 4}, {9, 3}, {5, 5}, {6, 2}, {4, 1}}) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& d = dk.first;
    const auto& k = dk.second;
    const auto ud = static_cast<std::size_t>(d);
    SymTensor<ex> g_exact(d, k);
    SymTensor<double> g(d, k);
    for (std::size_t r = 0; r < g.size(); ++r) {
      const numeric q = small_rational(rng);
      g_exact[r] = q, g[r] = q.to_double();
    }
    std::vector<ex> M_exact;
    std::vector<double> M;
    for (std::size_t i = 0; i < ud * ud; ++i) {
      const numeric q = small_rational(rng);
      M_exact.push_back(q), M.push_back(q.to_double());
    }
    const SymTensor<ex> want = transform_legs(g_exact, M_exact);
    for (int block : {1, 2, 3, d}) {
      std::vector<double> first;
      for (unsigned t : {1U, 2U, 3U}) {
        const SymTensor<double> got = [&] {
          const ThreadCount threads(t);
          return transform_legs(g, M, block);
        }();
        if (first.empty()) first = got.data();
        CHECK_MESSAGE(got.data() == first, "d " << d << " k " << k << " block " << block);
        double worst = 0, scale = 0;
        for (std::size_t r = 0; r < got.size(); ++r) {
          const double w = GiNaC::ex_to<numeric>(want[r]).to_double();
          worst = std::max(worst, std::abs(got[r] - w)), scale = std::max(scale, std::abs(w));
        }
        CHECK_MESSAGE(worst <= 1e-13 * scale, "d " << d << " k " << k << " block " << block);
      }
    }
  }
}
