// Compiles a LaTeX document to PDF (--pdf): pdflatex or lualatex runs in a temporary directory,
// never in the user's, and the PDF is put beside the .tex. Missing TeX is an error that names the
// Debian packages to install; the .tex is left in place either way.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace flowaction {

// The TeX engines --engine accepts, the first being the default.
inline constexpr std::string_view tex_engines[] = {"pdflatex", "lualatex"};

// The Debian packages that provide an engine and the packages the documents use.
std::string tex_packages(std::string_view engine);

// Whether the engine is an executable on PATH.
bool tex_available(std::string_view engine);

// Compiles tex (a complete document) with the engine; returns the path of the PDF beside it.
// Throws flowaction::Error: TeX missing (naming the packages), or the run failed (with the first
// error line of TeX's log).
std::filesystem::path compile_pdf(const std::filesystem::path& tex, std::string_view engine);

}  // namespace flowaction
