#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "engine/contraction.hpp"
#include "engine/huge_pages.hpp"
#include "engine/sym_tensor.hpp"
#include "tests/skip.hpp"

using namespace flowaction;

TEST_CASE("packed symmetric storage: ranks are a bijection onto 0..C(d+k-1,k)-1") {
  for (int d = 1; d <= 6; ++d)
    for (int k = 0; k <= 5; ++k) {
      const SymShape s(d, k);
      // Count sorted multi-indices by brute force over all d^k index tuples.
      std::set<std::vector<int>> sorted;
      std::vector<int> idx(k, 0);
      while (true) {
        std::vector<int> t = idx;
        std::sort(t.begin(), t.end());
        sorted.insert(t);
        int p = 0;
        while (p < k && ++idx[p] == d) idx[p++] = 0;
        if (p == k) break;
      }
      CHECK(s.size() == sorted.size());
      // Colex order: compare from the last position. The rank is the position in that order.
      std::vector<std::vector<int>> colex(sorted.begin(), sorted.end());
      std::sort(colex.begin(), colex.end(), [](const auto& a, const auto& b) {
        return std::lexicographical_compare(a.rbegin(), a.rend(), b.rbegin(), b.rend());
      });
      for (std::size_t pos = 0; pos < colex.size(); ++pos) {
        CHECK(s.rank(colex[pos]) == pos);
        CHECK(s.unrank(pos) == colex[pos]);
      }
      // A tensor over fewer units is a prefix: the rank does not depend on d.
      for (const auto& t : sorted) CHECK(SymShape(d + 2, k).rank(t) == s.rank(t));
      // next() walks the ranks in order; next_lex() visits every index in reading order.
      multi_index i = s.first();
      std::size_t r = 0, lex = 0;
      do CHECK(s.rank(i) == r++);
      while (s.next(i));
      CHECK(r == s.size());
      multi_index j = s.first();
      multi_index prev;
      do {
        if (lex++)
          CHECK(std::lexicographical_compare(prev.begin(), prev.end(), j.begin(), j.end()));
        prev = j;
      } while (next_lex(j, d));
      CHECK(lex == s.size());
    }
}

TEST_CASE("binomials and multiplicity factorials") {
  CHECK(binomial(67, 4) == 766480);
  CHECK(sym_size(64, 4) == 766480);
  CHECK(binomial(200, 100) == UINT64_MAX);  // saturates
  CHECK(multiplicity_factorial(std::vector<int>{0, 0, 1, 2, 2, 2}) == 2 * 6);
  CHECK(multiplicity_factorial(std::vector<int>{}) == 1);
}

TEST_CASE("insert table: rank(sorted(I ∪ {i})) against sorting and ranking each merged index") {
  // Blocks of 256 index sets are built at once: d = 9, q = 3 has 165 sets, d = 12, q = 3 has 364.
  for (const auto& dq : {std::pair{1, 1}, {3, 1}, {5, 2}, {9, 3}, {12, 3}, {4, 5}}) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& d = dq.first;
    const auto& q = dq.second;
    const InsertTable& t = insert_table(d, q);
    const SymShape in(d, q), out(d, q + 1);
    REQUIRE(t.n == in.size());
    REQUIRE(t.rank.size() == t.n * static_cast<std::size_t>(d));
    std::size_t wrong = 0;
    for (std::size_t r = 0; r < in.size(); ++r) {
      const multi_index I = in.unrank(r);
      for (int i = 0; i < d; ++i) {
        multi_index merged = I;
        merged.push_back(i);
        std::sort(merged.begin(), merged.end());
        wrong += t.rank[static_cast<std::size_t>(i) * t.n + r] != out.rank(merged);
      }
    }
    CHECK_MESSAGE(wrong == 0, "d = " << d << ", q = " << q);
  }
}

namespace {

// The VmFlags of the mapping of /proc/self/smaps that holds address a ("" if none).
std::string vm_flags_at(const void* a) {
  std::ifstream smaps("/proc/self/smaps");
  const auto x = reinterpret_cast<std::uintptr_t>(a);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {  // "lo-hi perms ..." opens a mapping
      inside = lo <= x && x < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

}  // namespace

TEST_CASE("huge pages: a tensor of many megabytes is filled whole and its 2 MiB pages advised") {
  const SymTensor<double> t(64, 4);  // 766480 doubles, 5.8 MiB
  REQUIRE(t.size() == 766480);
  CHECK(std::all_of(t.data().begin(), t.data().end(), [](double v) { return v == 0; }));
  std::vector<std::uint32_t> v{5, 7};
  assign_advised(v, std::size_t{3} << 20, v[0]);  // 12 MiB, filled from an element of v itself
  CHECK(v.size() == std::size_t{3} << 20);
  CHECK(std::all_of(v.begin(), v.end(), [](std::uint32_t x) { return x == 5; }));
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(thp, mode);
  if (mode.find("[never]") != std::string::npos || mode.empty()) {
    testing_support::skip("transparent huge pages are off on this kernel (" + mode + ")");
    return;
  }
  // The whole 2 MiB pages inside the buffer carry MADV_HUGEPAGE ("hg"); its middle is one.
  const std::string flags = vm_flags_at(v.data() + v.size() / 2);
  CAPTURE(flags);
  CHECK(flags.find(" hg") != std::string::npos);
  const SymTensor<double> big(64, 5);  // 1.04·10⁷ doubles, 79.5 MiB
  CHECK(vm_flags_at(big.data().data() + big.size() / 2).find(" hg") != std::string::npos);
}
