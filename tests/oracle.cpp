#include "oracle.hpp"

#include <sstream>

namespace oracle {

using GiNaC::ex;

namespace {

numeric small(std::mt19937& rng, int lo, int hi, int denom) {
  return numeric(std::uniform_int_distribution<int>(lo, hi)(rng), denom);
}

ex poly(const std::vector<numeric>& c, const ex& u) {  // Σ_k c_k u^k, c[0] = c₁
  ex r = 0;
  for (std::size_t k = 0; k < c.size(); ++k) r += c[k] * GiNaC::pow(u, static_cast<int>(k) + 1);
  return r;
}
ex dpoly(const std::vector<numeric>& c, const ex& u) {
  ex r = 0;
  for (std::size_t k = 0; k < c.size(); ++k)
    r += numeric(static_cast<int>(k) + 1) * c[k] *
         (k == 0 ? ex(1) : GiNaC::pow(u, static_cast<int>(k)));
  return r;
}

ex determinant(const matrix& W) {
  const unsigned d = static_cast<unsigned>(W.size());
  GiNaC::matrix M(d, d);
  for (unsigned i = 0; i < d; ++i)
    for (unsigned j = 0; j < d; ++j) M(i, j) = W[i][j];
  return M.determinant();
}

// One layer on a vector of expressions; adds ln|det ∂f| to logdet. `series_in` truncates.
template <class Trunc>
std::vector<ex> apply(const Layer& L, std::vector<ex> y, ex& logdet, Trunc&& trunc) {
  const std::size_t d = y.size();
  if (L.type == "affine") {
    std::vector<ex> z(d);
    for (std::size_t i = 0; i < d; ++i) {
      z[i] = L.b.empty() ? ex(0) : ex(L.b[i]);
      for (std::size_t j = 0; j < d; ++j) z[i] += L.W[i][j] * y[j];
      z[i] = trunc(z[i]);
    }
    logdet += GiNaC::log(GiNaC::abs(determinant(L.W)));
    return z;
  }
  if (L.type == "actnorm") {  // zᵢ = sᵢ yᵢ + tᵢ
    for (std::size_t i = 0; i < d; ++i) {
      logdet += GiNaC::log(GiNaC::abs(ex(L.scale[i])));
      y[i] = trunc(L.scale[i] * y[i] + (L.b.empty() ? ex(0) : ex(L.b[i])));
    }
    return y;
  }
  if (L.type == "activation") {
    for (std::size_t i = 0; i < d; ++i) {
      logdet += trunc(GiNaC::log(dpoly(L.coeffs[i], y[i])), true);
      y[i] = trunc(poly(L.coeffs[i], y[i]));
    }
    return y;
  }
  std::vector<ex> ya, z = y;
  for (std::size_t i = 0; i < d; ++i)
    if (!L.mask[i]) ya.push_back(y[i]);
  std::vector<ex> h(L.W1.size());
  for (std::size_t k = 0; k < h.size(); ++k) {
    ex u = L.b1[k];
    for (std::size_t a = 0; a < ya.size(); ++a) u += L.W1[k][a] * ya[a];
    h[k] = trunc(poly(L.coeffs[k], trunc(u)));
  }
  std::size_t bi = 0;
  for (std::size_t i = 0; i < d; ++i) {
    if (!L.mask[i]) continue;
    ex s = L.b2[bi];
    for (std::size_t k = 0; k < h.size(); ++k) s += L.W2[bi][k] * h[k];
    z[i] = trunc(z[i] + s);
    ++bi;
  }
  return z;
}

}  // namespace

std::string decimal(const numeric& q) {
  // q = p / (2^a 5^b): scale to an integer over a power of ten.
  numeric den = q.denom(), num = q.numer();
  int digits = 0;
  while (den != 1) {
    if (GiNaC::mod(den, 10).is_zero())
      den = den / 10;
    else if (GiNaC::mod(den, 2).is_zero())
      den = den / 2, num = num * 5;
    else if (GiNaC::mod(den, 5).is_zero())
      den = den / 5, num = num * 2;
    else
      throw std::invalid_argument("not a terminating decimal");
    ++digits;
  }
  std::ostringstream s;
  s << GiNaC::abs(num);
  std::string t = s.str();
  if (digits > 0) {
    if (static_cast<int>(t.size()) <= digits) t = std::string(digits + 1 - t.size(), '0') + t;
    t.insert(t.size() - digits, ".");
  }
  return (num < 0 ? "-" : "") + t;
}

Model random_model(std::mt19937& rng, int dim, int layers, const std::vector<numeric>& x0,
                   bool allow_coupling, bool allow_actnorm) {
  for (int attempt = 0;; ++attempt) {
    Model m;
    m.dim = dim;
    for (int l = 0; l < layers; ++l) {
      Layer L;
      int pick = std::uniform_int_distribution<int>(0, (allow_coupling && dim >= 2) ? 2 : 1)(rng);
      if (allow_actnorm && std::uniform_int_distribution<int>(0, 3)(rng) == 0) pick = 3;
      if (pick == 3) {
        L.type = "actnorm";
        for (int i = 0; i < dim; ++i) {
          numeric s = small(rng, -20, 20, 10);
          L.scale.push_back(s.is_zero() ? numeric(1, 2) : s);  // negative scales too
          L.b.push_back(small(rng, -30, 30, 100));
        }
      } else if (pick == 0) {
        L.type = "affine";
        L.W.assign(dim, std::vector<numeric>(dim));
        for (int i = 0; i < dim; ++i)
          for (int j = 0; j < dim; ++j)
            L.W[i][j] = (i == j ? numeric(1) : numeric(0)) + small(rng, -40, 40, 100);
        for (int i = 0; i < dim; ++i) L.b.push_back(small(rng, -30, 30, 100));
      } else if (pick == 1) {
        L.type = "activation";
        const int p = std::uniform_int_distribution<int>(2, 3)(rng);
        for (int i = 0; i < dim; ++i) {
          std::vector<numeric> c{numeric(1) + small(rng, -2, 2, 10)};
          for (int k = 2; k <= p; ++k) c.push_back(small(rng, -30, 30, 100));
          L.coeffs.push_back(c);
        }
      } else {
        L.type = "coupling";
        L.mask.assign(dim, 0);
        const int nb = std::uniform_int_distribution<int>(1, dim - 1)(rng);
        std::vector<int> perm(dim);
        for (int i = 0; i < dim; ++i) perm[i] = i;
        std::shuffle(perm.begin(), perm.end(), rng);
        for (int i = 0; i < nb; ++i) L.mask[perm[i]] = 1;
        const int na = dim - nb, hidden = std::uniform_int_distribution<int>(1, 3)(rng);
        const int p = std::uniform_int_distribution<int>(2, 3)(rng);
        for (int k = 0; k < hidden; ++k) {
          std::vector<numeric> row;
          for (int a = 0; a < na; ++a) row.push_back(small(rng, -50, 50, 100));
          L.W1.push_back(row);
          L.b1.push_back(small(rng, -20, 20, 100));
          std::vector<numeric> c{small(rng, 5, 15, 10)};
          for (int e = 2; e <= p; ++e) c.push_back(small(rng, -40, 40, 100));
          L.coeffs.push_back(c);
        }
        for (int b = 0; b < nb; ++b) {
          std::vector<numeric> row;
          for (int k = 0; k < hidden; ++k) row.push_back(small(rng, -50, 50, 100));
          L.W2.push_back(row);
          L.b2.push_back(small(rng, -20, 20, 100));
        }
      }
      m.layers.push_back(L);
    }
    // Keep it only if every W is invertible and every activation slope positive at x0's image.
    bool ok = true;
    std::vector<ex> y(x0.begin(), x0.end());
    for (const Layer& L : m.layers) {
      if (L.type == "affine" && determinant(L.W).is_zero()) ok = false;
      if (L.type == "activation")
        for (int i = 0; i < dim; ++i)
          if (!(GiNaC::ex_to<numeric>(dpoly(L.coeffs[i], y[i]).evalf()) > numeric(1, 10)))
            ok = false;
      ex ld = 0;
      y = apply(L, y, ld, [](const ex& e, bool = false) { return e.expand(); });
    }
    if (ok) return m;
  }
}

std::string manifest(const Model& m) {
  auto vec = [](const std::vector<numeric>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + decimal(v[i]);
    return s + "]";
  };
  auto mat = [&](const matrix& M) {
    std::string s = "[";
    for (std::size_t i = 0; i < M.size(); ++i) s += (i ? ", " : "") + vec(M[i]);
    return s + "]";
  };
  std::ostringstream o;
  o << "{\"format\": \"flowaction/1\", \"dim\": " << m.dim << ", \"layers\": [\n";
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const Layer& L = m.layers[l];
    o << (l ? ",\n" : "") << "  {\"type\": \"" << L.type << "\"";
    if (L.type == "affine") o << ", \"W\": " << mat(L.W) << ", \"b\": " << vec(L.b);
    if (L.type == "activation") o << ", \"coeffs\": " << mat(L.coeffs);
    if (L.type == "actnorm") o << ", \"scale\": " << vec(L.scale) << ", \"shift\": " << vec(L.b);
    if (L.type == "coupling") {
      o << ", \"mask\": [";
      for (std::size_t i = 0; i < L.mask.size(); ++i) o << (i ? ", " : "") << L.mask[i];
      o << "], \"W1\": " << mat(L.W1) << ", \"b1\": " << vec(L.b1)
        << ", \"coeffs\": " << mat(L.coeffs) << ", \"W2\": " << mat(L.W2)
        << ", \"b2\": " << vec(L.b2);
    }
    o << "}";
  }
  o << "\n]}\n";
  return o.str();
}

vertices series_vertices(const Model& m, const std::vector<numeric>& x0, int K, bool ginac_series) {
  const int d = m.dim;
  const GiNaC::symbol t("t");
  std::vector<GiNaC::symbol> delta;
  for (int i = 0; i < d; ++i) delta.emplace_back("delta" + std::to_string(i));
  // Truncation in t is exact for the coefficients of t^0 … t^K (every map is polynomial).
  auto keep = [&](const ex& e) {
    const ex p = e.expand();
    ex r = 0;
    for (int k = 0; k <= K; ++k) r += p.coeff(t, k) * GiNaC::pow(t, k);
    return r;
  };
  // ln(c₀ + q(t)) = ln c₀ + Σ_r (−1)^(r+1)/r (q/c₀)^r, truncated after every product (GiNaC's
  // series() gives the same but is far slower on polynomials in many symbols).
  auto trunc = [&](const ex& e, bool is_log = false) {
    if (!is_log) return keep(e);
    if (ginac_series) return keep(GiNaC::series_to_poly(e.series(t == 0, K + 1)));
    const ex arg = keep(e.op(0));
    const ex c0 = arg.coeff(t, 0);
    const ex q = keep(arg / c0 - 1);
    ex r = GiNaC::log(c0), power = 1;
    for (int k = 1; k <= K; ++k) {
      power = keep(power * q);
      r += numeric(k % 2 ? 1 : -1, k) * power;
    }
    return r;
  };
  std::vector<ex> y;
  for (int i = 0; i < d; ++i) y.push_back(x0[i] + t * delta[i]);
  ex logdet = 0;
  for (const Layer& L : m.layers) y = apply(L, y, logdet, trunc);
  ex S = numeric(d, 2) * GiNaC::log(2 * GiNaC::Pi) - logdet;
  for (const ex& z : y) S += trunc(z * z) / 2;
  S = trunc(S);
  vertices out;
  for (int k = 0; k <= K; ++k) {
    const ex c = S.coeff(t, k).expand();
    // Γ_α = α! × coefficient of δ^α.
    std::vector<int> index(k, 0);
    auto rec = [&](auto&& self, int pos, int from) -> void {
      if (pos == k) {
        ex coeff = c;
        std::vector<int> mult(d, 0);
        for (int i : index) ++mult[i];
        numeric fact = 1;
        for (int i = 0; i < d; ++i) {
          coeff = coeff.coeff(delta[i], mult[i]);
          fact *= GiNaC::factorial(numeric(mult[i]));
        }
        if (k == 0)
          coeff = c.subs([&] {
            GiNaC::lst l;
            for (auto& s : delta) l.append(s == 0);
            return l;
          }());
        out[{k, index}] = (coeff * fact).expand();
        return;
      }
      for (int i = from; i < d; ++i) {
        index[pos] = i;
        self(self, pos + 1, i);
      }
    };
    rec(rec, 0, 0);
  }
  return out;
}

numeric direct_action(const Model& m, const std::vector<numeric>& x, int digits) {
  GiNaC::Digits = static_cast<long>(digits);
  std::vector<ex> y(x.begin(), x.end());
  ex logdet = 0;
  for (const Layer& L : m.layers)
    y = apply(L, y, logdet, [](const ex& e, bool = false) { return e.expand(); });
  ex S = numeric(m.dim, 2) * GiNaC::log(2 * GiNaC::Pi) - logdet;
  for (const ex& z : y) S += z * z / 2;
  return GiNaC::ex_to<numeric>(S.evalf());
}

}  // namespace oracle
