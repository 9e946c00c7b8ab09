#include "frontends/samples_file.hpp"

#include <fmt/format.h>

#include <cmath>

#include "engine/error.hpp"
#include "frontends/npy.hpp"

namespace flowaction {

Eigen::MatrixXd read_samples(const std::filesystem::path& path, std::size_t min_rows,
                             std::optional<int> dim) {
  const NpyArray table = read_table(path);
  if (table.cols < 1)
    throw Error(fmt::format("{}: the samples have no units (columns): {} x {}", path.string(),
                            table.rows, table.cols));
  if (dim && static_cast<std::size_t>(*dim) != table.cols)
    throw Error(fmt::format("{}: {} units (columns), but {} are expected", path.string(),
                            table.cols, *dim));
  if (table.rows < min_rows)
    throw Error(fmt::format("{}: need at least {} samples (rows), got {} x {}", path.string(),
                            min_rows, table.rows, table.cols));
  for (std::size_t k = 0; k < table.data.size(); ++k)
    if (!std::isfinite(table.data[k]))
      throw Error(fmt::format("{}: sample {}, unit {} is not a finite number", path.string(),
                              k / table.cols, k % table.cols));
  // Row-major samples × d is column-major d × samples: one sample per column.
  return Eigen::Map<const Eigen::MatrixXd>(table.data.data(), static_cast<Eigen::Index>(table.cols),
                                           static_cast<Eigen::Index>(table.rows));
}

}  // namespace flowaction
