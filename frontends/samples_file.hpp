// A samples file (.npy or CSV, samples × units, as `sample` and `generate` write it) read as a
// matrix with one sample per column, every value checked finite.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <filesystem>
#include <optional>

namespace flowaction {

// Throws flowaction::Error naming the file: no units, fewer than min_rows samples, a unit count
// other than dim (when given), or a value that is not finite (with its sample and unit).
Eigen::MatrixXd read_samples(const std::filesystem::path& path, std::size_t min_rows,
                             std::optional<int> dim = std::nullopt);

}  // namespace flowaction
