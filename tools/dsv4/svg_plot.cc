#include "svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace dsv4 {

namespace {

constexpr double kWidth = 820, kHeight = 520;
constexpr double kLeft = 90, kRight = 250, kTop = 40, kBottom = 60;  // margins; the legend sits right
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '&') out += "&amp;";
    else out += ch;
  }
  return out;
}

std::string tick_label(double v, bool bytes) {
  if (bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, ++u;
    return fmt::format("{:g} {}", v, units[u]);
  }
  if (v >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:g}K", v / 1e3);
  return fmt::format("{:g}", v);
}

// Context lengths are powers of two: 4K = 4096, 1M = 1,048,576.
std::string context_label(double v) {
  if (v >= 1048576) return fmt::format("{:g}M", v / 1048576);
  if (v >= 1024) return fmt::format("{:g}K", v / 1024);
  return fmt::format("{:g}", v);
}

}  // namespace

Status write_svg_plot(const PlotSpec& spec, const std::string& path) {
  double x0 = INFINITY, x1 = 0, y0 = INFINITY, y1 = 0;
  for (const PlotSeries& s : spec.series)
    for (const auto& [x, y] : s.points) {
      if (!(x > 0 && y > 0)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!(x1 > 0)) return Status::error("{}: nothing to plot (no positive point)", path);
  // Axis ranges: x in powers of two, y in powers of ten (bytes: powers of 1024 as ticks, decades as range).
  const double lx0 = std::floor(std::log2(x0)), lx1 = std::max(std::ceil(std::log2(x1)), lx0 + 1);
  const double ly0 = std::floor(std::log10(y0)), ly1 = std::max(std::ceil(std::log10(y1)), ly0 + 1);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + (std::log2(x) - lx0) / (lx1 - lx0) * pw; };
  const auto py = [&](double y) { return kTop + ph - (std::log10(y) - ly0) / (ly1 - ly0) * ph; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth, kHeight);
  svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2,
                     escape(spec.title));
  // Grid and ticks.
  const int x_step = lx1 - lx0 > 12 ? 2 : 1;
  for (double e = lx0; e <= lx1; e += x_step) {
    const double x = px(std::exp2(e));
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n", x, kTop, kTop + ph);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x, kTop + ph + 18,
                       context_label(std::exp2(e)));
  }
  std::vector<double> y_ticks;
  if (spec.y_bytes) {  // powers of two, every `step`-th so that about eight are labelled
    const double lo = ly0 * std::log2(10.0), hi = ly1 * std::log2(10.0);
    const int step = std::max(1, int(std::ceil((hi - lo) / 8)));
    for (int e = int(std::ceil(lo)); e <= int(std::floor(hi)); ++e)
      if (((e % step) + step) % step == 0) y_ticks.push_back(std::exp2(e));
  } else {
    for (double e = ly0; e <= ly1; ++e) y_ticks.push_back(std::pow(10.0, e));
  }
  for (double v : y_ticks) {
    const double y = py(v);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n", kLeft, y, kLeft + pw);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, y + 4,
                       tick_label(v, spec.y_bytes));
  }
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", kLeft,
                     kTop, pw, ph);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2, kHeight - 15,
                     escape(spec.x_label));
  svg += fmt::format("<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     kTop + ph / 2, escape(spec.y_label));
  // Series and legend.
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const PlotSeries& s = spec.series[i];
    const char* color = kColors[i % std::size(kColors)];
    const char* dash = i >= std::size(kColors) ? " stroke-dasharray=\"6 3\"" : "";
    std::string pts;
    for (const auto& [x, y] : s.points)
      if (x > 0 && y > 0) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", pts, color, dash);
    for (const auto& [x, y] : s.points)
      if (x > 0 && y > 0)
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", px(x), py(y), color);
    const double ly = kTop + 10 + 18 * double(i);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>\n",
                       kLeft + pw + 12, ly, kLeft + pw + 32, color, dash);
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kLeft + pw + 38, ly + 4, escape(s.name));
  }
  svg += "</svg>\n";
  std::ofstream out(path, std::ios::binary);
  if (!out) return Status::error("{}: cannot write", path);
  out << svg;
  if (!out) return Status::error("{}: write failed", path);
  return Status::ok();
}

}  // namespace dsv4
